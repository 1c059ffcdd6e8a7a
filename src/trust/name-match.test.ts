import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { nameMatcher } from "./name-match.ts";
import { acmeName, atv, bmp, name, printable, rdn, T, utf8 } from "./test-support/name-der.ts";

describe("DN patterns (SPEC §1) match whole subject DNs", () => {
  const rows: [string, string, Buffer, boolean][] = [
    ["equal", "cn=CA01,o=Acme,c=SE", acmeName("CA01"), true],
    ["values ignore case", "CN=ca01,O=ACME,C=se", acmeName("CA01"), true],
    ["a different value", "cn=CA02,o=Acme,c=SE", acmeName("CA01"), false],
    ["RDNs out of order", "o=Acme,cn=CA01,c=SE", acmeName("CA01"), false],
    ["a shorter pattern is not a prefix match", "o=Acme,c=SE", acmeName("CA01"), false],
    ["a longer pattern", "cn=CA01,ou=x,o=Acme,c=SE", acmeName("CA01"), false],
    ["* matches any value", "cn=*,o=Acme,c=SE", acmeName("anything at all"), true],
    ["* matches the empty value", "cn=CA*,o=Acme,c=SE", acmeName("CA"), true],
    ["* inside a value", "cn=CA*1,o=Acme,c=SE", acmeName("CA-prod-1"), true],
    ["several *", "cn=*-*-*,o=Acme,c=SE", acmeName("a-b-c-d"), true],
    ["* does not span RDNs", "cn=*,c=SE", acmeName("x"), false],
    ["? matches one character", "cn=CA0?,o=Acme,c=SE", acmeName("CA07"), true],
    ["? does not match none", "cn=CA0?,o=Acme,c=SE", acmeName("CA0"), false],
    ["? does not match two", "cn=CA0?,o=Acme,c=SE", acmeName("CA012"), false],
    ["? matches one non-BMP character", "cn=?,o=Acme,c=SE", acmeName("😀"), true],
    ["\\* is a literal asterisk", "cn=a\\*b,o=Acme,c=SE", acmeName("a*b"), true],
    ["\\* is not a wildcard", "cn=a\\*b,o=Acme,c=SE", acmeName("axb"), false],
    ["whitespace around separators ignored", " cn = CA01 , o = Acme , c = SE ", acmeName("CA01"), true],
    ["inner whitespace is insignificant", "cn=Acme   Root,o=Acme,c=SE", acmeName("Acme Root"), true],
    ["leading/trailing whitespace in the subject is insignificant", "cn=Acme Root,o=Acme,c=SE", acmeName("  Acme Root "), true],
    ["Unicode case folding", "cn=åsa,o=straße,c=SE", acmeName("ÅSA", "STRASSE"), true],
    ["a BMPString subject", "cn=Åsa,o=Acme", name(rdn(atv(T.O, utf8("Acme"))), rdn(atv(T.CN, bmp("ÅSA")))), true],
    ["a PrintableString subject", "cn=Alice,o=Acme", name(rdn(atv(T.O, printable("Acme"))), rdn(atv(T.CN, printable("alice")))), true],
    ["a multi-valued RDN in either order", "uid=a1+cn=Alice,o=Acme", name(rdn(atv(T.O, utf8("Acme"))), rdn(atv(T.CN, utf8("Alice")), atv(T.UID, utf8("a1")))), true],
    ["a single-valued pattern against a multi-valued RDN", "cn=Alice,o=Acme", name(rdn(atv(T.O, utf8("Acme"))), rdn(atv(T.CN, utf8("Alice")), atv(T.UID, utf8("a1")))), false],
    ["wildcards in a multi-valued RDN", "cn=*+uid=a?,o=Acme", name(rdn(atv(T.O, utf8("Acme"))), rdn(atv(T.UID, utf8("a1")), atv(T.CN, utf8("Alice")))), true],
    ["#hex matches the exact DER", "cn=#0c03616263,o=Acme,c=SE", acmeName("abc"), true],
    ["#hex does not match another string type", "cn=#1303616263,o=Acme,c=SE", acmeName("abc"), false],
    ["an unknown type by OID", "1.2.3.4=#0c0178,o=Acme", name(rdn(atv(T.O, utf8("Acme"))), rdn(atv("1.2.3.4", utf8("x")))), true],
    ["a * RDN matches the rest of the DN", "cn=requestor rsa,*", name(rdn(atv(T.C, printable("SE"))), rdn(atv(T.O, utf8("Vouch Demo"))), rdn(atv(T.CN, utf8("Requestor RSA")))), true],
    ["a * RDN matches no RDN", "cn=Alice,*", name(rdn(atv(T.CN, utf8("Alice")))), true],
    ["a leading * RDN", "*,o=Acme,c=SE", name(rdn(atv(T.C, printable("SE"))), rdn(atv(T.O, utf8("Acme"))), rdn(atv(T.OU, utf8("x"))), rdn(atv(T.CN, utf8("y")))), true],
    ["a leading * RDN, other organisation", "*,o=Acme,c=SE", acmeName("y", "Other"), false],
    ["a * RDN in the middle", "cn=a, * ,c=SE", acmeName("a"), true],
    ["two * RDNs", "*,cn=a,*", acmeName("a"), true],
    ["* alone matches any DN", "*", acmeName("whoever"), true],
    ["* alone matches the empty DN", "*", name(), true],
    ["a * RDN does not rescue a wrong RDN", "cn=b,*", acmeName("a"), false],
    ["a * RDN and an escaped separator", "*,o=Acme,c=SE", name(rdn(atv(T.C, printable("SE"))), rdn(atv(T.O, utf8("Evil,o=Acme"))), rdn(atv(T.CN, utf8("x")))), false],
    ["an escaped separator cannot pass for one", "cn=*,o=Acme,c=SE", name(rdn(atv(T.C, printable("SE"))), rdn(atv(T.O, utf8("Evil,o=Acme"))), rdn(atv(T.CN, utf8("x")))), false],
    ["a subject value holding a whole DN", "cn=*,o=Acme,c=SE", name(rdn(atv(T.C, printable("SE"))), rdn(atv(T.O, utf8("Evil"))), rdn(atv(T.CN, utf8("x,o=Acme,c=SE")))), false],
  ];
  for (const [title, pattern, subject, expected] of rows) {
    test(`${title}: ${pattern}`, () => assert.equal(nameMatcher([pattern], "names").matches(subject), expected));
  }

  test("any of several patterns", () => {
    const matcher = nameMatcher(["cn=a,o=Acme,c=SE", "cn=b*,o=Acme,c=SE"], "names");
    assert.deepEqual(["a", "bee", "c"].map((cn) => matcher.matches(acmeName(cn))), [true, true, false]);
  });

  test("a malformed subject matches nothing", () => {
    assert.equal(nameMatcher(["cn=*"], "names").matches(Buffer.from([0x30, 0x03, 0x31, 0x00])), false);
  });
});

describe("nameMatcher refuses bad patterns", () => {
  const rows: [string, unknown, string, RegExp][] = [
    ["a pattern without =", ["cn=ok", "cn"], "authorization.names[1]", /not an RFC 4514 DN pattern/],
    ["a bare * inside a value list", ["cn=a+*"], "authorization.names[0]", /not an RFC 4514 DN pattern/],
    ["an unknown attribute type", ["xx=1"], "authorization.names[0]", /unknown attribute type/],
    ["an empty pattern", [""], "authorization.names[0]", /must not be empty/],
    ["a pattern that is not a string", [1], "authorization.names[0]", /string/],
    ["not a list", "cn=x", "authorization.names", /list/],
  ];
  for (const [title, patterns, field, message] of rows) {
    test(`${title} (ConfigError ${field})`, () => {
      assert.throws(
        () => nameMatcher(patterns as string[], "authorization.names"),
        (error: unknown) => error instanceof ConfigError && error.field === field && message.test(error.message),
      );
    });
  }
});

test("a matcher gives a subject the same answer when asked again, also after more other subjects than it remembers", () => {
  const matcher = nameMatcher(["cn=CA01,o=Acme,c=SE"], "authorization.names");
  const malformed = Buffer.from([0x30, 0x03, 0x31, 0x01]);
  assert.equal(matcher.matches(acmeName("CA01")), true);
  assert.equal(matcher.matches(malformed), false);
  for (let index = 0; index < 1100; index++) assert.equal(matcher.matches(acmeName(`CA${index + 100}`)), false);
  assert.equal(matcher.matches(acmeName("CA01")), true);
  assert.equal(matcher.matches(acmeName("CA01")), true);
  assert.equal(matcher.matches(malformed), false);
});
