import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ParsedRdn } from "./parse-distinguished-name.ts";
import { ANY_RDNS, DistinguishedNameSyntaxError, parseDistinguishedName, parseDnPattern } from "./parse-distinguished-name.ts";

/** A compact view: `type=text` (escaped code points in [brackets]), `type=#hex`, or `<any RDNs>`. */
function show(rdns: readonly (ParsedRdn | typeof ANY_RDNS)[]): string {
  const attribute = ({ type, value }: ParsedRdn[number]): string => {
    if (value.kind === "der") return `${type}=#${value.der.toString("hex")}`;
    return `${type}=${Array.from(value.text, (char, i) => (value.escaped[i] === true ? `[${char}]` : char)).join("")}`;
  };
  return rdns.map((rdn) => (rdn === ANY_RDNS ? "<any RDNs>" : rdn.map(attribute).join("+"))).join(",");
}

describe("parseDistinguishedName accepts", () => {
  const rows: [string, string, string][] = [
    ["short names, any case", "cn=CA01,o=Acme,C=SE", "2.5.4.3=CA01,2.5.4.10=Acme,2.5.4.6=SE"],
    ["long names and dotted OIDs", "commonName=a,2.5.4.10=b,emailAddress=c@d", "2.5.4.3=a,2.5.4.10=b,1.2.840.113549.1.9.1=c@d"],
    ["whitespace around separators", "  cn = CA01 ,  o = Acme Bank  , c=SE ", "2.5.4.3=CA01,2.5.4.10=Acme Bank,2.5.4.6=SE"],
    ["a multi-valued RDN", "CN=Alice + UID=a1,O=Acme", "2.5.4.3=Alice+0.9.2342.19200300.100.1.1=a1,2.5.4.10=Acme"],
    ["escaped specials", "CN=a\\,b\\+c\\;d\\<e\\>f\\\"g\\\\h\\=i", "2.5.4.3=a[,]b[+]c[;]d[<]e[>]f[\"]g[\\]h[=]i"],
    ["escaped leading and trailing spaces", "CN=\\ x\\ ", "2.5.4.3=[ ]x[ ]"],
    ["an escaped leading #", "CN=\\#x", "2.5.4.3=[#]x"],
    ["hex pairs as UTF-8", "CN=\\c3\\85sa", "2.5.4.3=[Å]sa"],
    ["escaped wildcards", "CN=a\\*b\\?c*d?", "2.5.4.3=a[*]b[?]c*d?"],
    ["an = inside a value", "CN=a=b", "2.5.4.3=a=b"],
    ["an empty value", "CN=,O=x", "2.5.4.3=,2.5.4.10=x"],
    ["a #hex value", "1.2.3.4=#0C0178", "1.2.3.4=#0c0178"],
    ["the empty DN", "  ", ""],
  ];
  for (const [title, text, expected] of rows) {
    test(title, () => assert.equal(show(parseDistinguishedName(text)), expected));
  }
});

describe("parseDnPattern also accepts a bare * as a whole RDN", () => {
  const rows: [string, string][] = [
    ["cn=a,*", "2.5.4.3=a,<any RDNs>"],
    [" * , o=x ", "<any RDNs>,2.5.4.10=x"],
    ["*", "<any RDNs>"],
    ["cn=*,o=x", "2.5.4.3=*,2.5.4.10=x"],
  ];
  for (const [text, expected] of rows) {
    test(text, () => assert.equal(show(parseDnPattern(text)), expected));
  }

  test("parseDistinguishedName does not", () => assert.throws(() => parseDistinguishedName("cn=a,*"), DistinguishedNameSyntaxError));
});

describe("parseDistinguishedName refuses", () => {
  const rows: [string, string, RegExp][] = [
    ["a type without a value", "CN", /expected '='/],
    ["a value without a type", "=x", /expected an attribute type/],
    ["an unknown short name", "XX=y", /unknown attribute type "XX"/],
    ["a bad OID", "1..2=x", /not an OBJECT IDENTIFIER/],
    ["the RFC 2253 ; separator", "CN=a;O=b", /";" must be escaped/],
    ["an unescaped <", "CN=<x>", /must be escaped/],
    ["a trailing comma", "CN=a,", /expected an attribute type/],
    ["a dangling backslash", "CN=a\\", /cannot escape/],
    ["an escape of an ordinary letter", "CN=\\q", /cannot escape "q"/],
    ["hex pairs that are not UTF-8", "CN=\\ff", /not UTF-8/],
    ["odd hex digits", "CN=#0c017", /even/],
    ["#hex that is not one DER element", "CN=#0c0578", /not one DER element/],
    ["junk after a #hex value", "CN=#0c0178x", /expected ',' or '\+'/],
  ];
  for (const [title, text, message] of rows) {
    test(title, () => assert.throws(() => parseDistinguishedName(text), (error: unknown) => error instanceof DistinguishedNameSyntaxError && message.test(error.message)));
  }
});
