import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CertificateFormatError } from "../ocsp/certificate-fields.ts";
import { integer, tlv } from "../ocsp/der-writer.ts";
import { distinguishedName } from "./distinguished-name.ts";
import { nameMatcher } from "./name-match.ts";
import { acmeName, atv, bmp, ia5, name, printable, rdn, T, teletex, universal, utf8 } from "./test-support/name-der.ts";

describe("distinguishedName renders RFC 4514", () => {
  const rows: [string, Buffer, string][] = [
    ["most specific RDN first", acmeName("Alice"), "CN=Alice,O=Acme,C=SE"],
    ["the empty DN", name(), ""],
    ["a multi-valued RDN joined with +", name(rdn(atv(T.O, utf8("Acme"))), rdn(atv(T.CN, utf8("Alice")), atv(T.UID, utf8("a1")))), "CN=Alice+UID=a1,O=Acme"],
    ["DC and emailAddress", name(rdn(atv(T.DC, ia5("com"))), rdn(atv(T.DC, ia5("example"))), rdn(atv(T.emailAddress, ia5("a@example.com")))), "emailAddress=a@example.com,DC=example,DC=com"],
    ["SERIALNUMBER and OU", name(rdn(atv(T.OU, utf8("Ops"))), rdn(atv(T.SERIALNUMBER, printable("19800101-1234")))), "SERIALNUMBER=19800101-1234,OU=Ops"],
    ["separators and quotes escaped", name(rdn(atv(T.CN, utf8('a,b+c;d<e>f"g\\h')))), 'CN=a\\,b\\+c\\;d\\<e\\>f\\"g\\\\h'],
    ["a leading # and leading/trailing spaces escaped", name(rdn(atv(T.CN, utf8("#x y "))), rdn(atv(T.O, utf8(" lead")))), "O=\\ lead,CN=\\#x y\\ "],
    ["a # or space inside is left alone", name(rdn(atv(T.CN, utf8("a #b")))), "CN=a #b"],
    ["control characters hex-escaped", name(rdn(atv(T.CN, utf8("a\nb\0c\u0085")))), "CN=a\\0ab\\00c\\c2\\85"],
    ["BMPString", name(rdn(atv(T.CN, bmp("Åsa Öberg")))), "CN=Åsa Öberg"],
    ["UniversalString beyond the BMP", name(rdn(atv(T.CN, universal("x😀")))), "CN=x😀"],
    ["TeletexString read as Latin-1", name(rdn(atv(T.CN, teletex("caf\u00e9")))), "CN=café"],
    ["an unknown type as dotted OID and #hex", name(rdn(atv("1.2.3.4", utf8("x")))), "1.2.3.4=#0c0178"],
    ["a known type with a non-string value as #hex", name(rdn(atv(T.CN, integer(1)))), "CN=#020101"],
    ["a PrintableString with a non-ASCII octet as #hex", name(rdn(atv(T.CN, tlv(0x13, Buffer.from([0x41, 0xe9]))))), "CN=#130241e9"],
  ];
  for (const [title, der, expected] of rows) {
    test(title, () => assert.equal(distinguishedName(der), expected));
  }

  const malformed: [string, Buffer][] = [
    ["trailing octets", Buffer.concat([acmeName("x"), Buffer.from([0])])],
    ["an empty RDN", name(rdn())],
    ["a SET that is not a SET", name(tlv(0x30, atv(T.CN, utf8("x"))))],
    ["an invalid UTF8String", name(rdn(atv(T.CN, tlv(0x0c, Buffer.from([0xff])))))],
    ["not a SEQUENCE", utf8("CN=x")],
  ];
  for (const [title, der] of malformed) {
    test(`throws CertificateFormatError on ${title}`, () => assert.throws(() => distinguishedName(der), CertificateFormatError));
  }
});

describe("a rendered DN, used as a pattern, matches its own DER (round trip)", () => {
  const names: [string, Buffer][] = [
    ["plain", acmeName("Alice")],
    ["escapes", name(rdn(atv(T.CN, utf8('#a,b+c;d<e>f"g\\h ')))) ],
    ["controls", name(rdn(atv(T.CN, utf8("a\nb\0c"))))],
    ["multi-valued", name(rdn(atv(T.CN, utf8("Alice")), atv(T.UID, utf8("a1"))))],
    ["unknown type", name(rdn(atv("1.2.3.4", utf8("x"))), rdn(atv(T.CN, integer(7))))],
    ["BMPString", name(rdn(atv(T.CN, bmp("Åsa"))))],
  ];
  for (const [title, der] of names) {
    test(title, () => assert.ok(nameMatcher([distinguishedName(der)], "p").matches(der), distinguishedName(der)));
  }
});
