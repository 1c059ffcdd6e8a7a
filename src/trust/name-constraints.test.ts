import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeName } from "./distinguished-name.ts";
import { nameConstraintsViolation } from "./name-constraints.ts";
import type { ParsedCertificate } from "./parse-certificate.ts";
import type { GeneralName, NameConstraints } from "./parse-general-names.ts";
import { GENERAL_NAME } from "./parse-general-names.ts";
import { acmeName, atv, ia5, name, printable, rdn, T, utf8 } from "./test-support/name-der.ts";

const dns = (text: string): GeneralName => ({ tag: GENERAL_NAME.dNSName, content: Buffer.from(text) });
const email = (text: string): GeneralName => ({ tag: GENERAL_NAME.rfc822Name, content: Buffer.from(text) });
const ip = (...octets: number[]): GeneralName => ({ tag: GENERAL_NAME.iPAddress, content: Buffer.from(octets) });
const dir = (der: Buffer): GeneralName => ({ tag: GENERAL_NAME.directoryName, content: der, directoryName: decodeName(der) });
const uri = (text: string): GeneralName => ({ tag: GENERAL_NAME.uniformResourceIdentifier, content: Buffer.from(text) });

/** Only the fields name constraints read. */
const certificate = (subject: Buffer, subjectAltNames: GeneralName[] = []): ParsedCertificate => ({ subject: decodeName(subject), subjectAltNames }) as unknown as ParsedCertificate;
const constraints = (permitted: GeneralName[], excluded: GeneralName[] = []): NameConstraints => ({ permitted, excluded });
const EMPTY = name();

describe("name constraints by form", () => {
  const rows: [string, NameConstraints, ParsedCertificate, boolean][] = [
    // directoryName
    ["DN inside a permitted subtree", constraints([dir(name(rdn(atv(T.C, printable("SE")))))]), certificate(acmeName("x")), true],
    ["DN compared case-insensitively", constraints([dir(name(rdn(atv(T.C, printable("se"))), rdn(atv(T.O, utf8("ACME")))))]), certificate(acmeName("x")), true],
    ["DN outside", constraints([dir(acmeName("y"))]), certificate(acmeName("x")), false],
    ["the base longer than the DN", constraints([dir(name(rdn(atv(T.C, printable("SE"))), rdn(atv(T.O, utf8("Acme"))), rdn(atv(T.CN, utf8("x"))), rdn(atv(T.CN, utf8("y")))))]), certificate(acmeName("x")), false],
    ["an empty subject is not constrained", constraints([dir(acmeName("y"))]), certificate(EMPTY), true],
    ["a directoryName SAN is constrained too", constraints([dir(name(rdn(atv(T.C, printable("SE")))))]), certificate(EMPTY, [dir(name(rdn(atv(T.C, printable("US")))))]), false],
    // dNSName
    ["dNSName equal to the base", constraints([dns("acme.test")]), certificate(EMPTY, [dns("ACME.test")]), true],
    ["dNSName below the base", constraints([dns("acme.test")]), certificate(EMPTY, [dns("a.b.acme.test")]), true],
    ["dNSName that only ends like the base", constraints([dns("acme.test")]), certificate(EMPTY, [dns("badacme.test")]), false],
    [".base excludes the base itself", constraints([dns(".acme.test")]), certificate(EMPTY, [dns("acme.test")]), false],
    [".base covers names below", constraints([dns(".acme.test")]), certificate(EMPTY, [dns("www.acme.test")]), true],
    ["one name outside among several", constraints([dns("acme.test")]), certificate(EMPTY, [dns("www.acme.test"), dns("evil.test")]), false],
    ["an excluded subtree within a permitted one", constraints([dns("acme.test")], [dns("bad.acme.test")]), certificate(EMPTY, [dns("x.bad.acme.test")]), false],
    ["other forms are unaffected", constraints([dns("acme.test")]), certificate(acmeName("x"), [email("a@evil.test")]), true],
    // rfc822Name
    ["a mailbox at the host", constraints([email("acme.test")]), certificate(EMPTY, [email("alice@ACME.test")]), true],
    ["a mailbox below the host needs .host", constraints([email("acme.test")]), certificate(EMPTY, [email("alice@mail.acme.test")]), false],
    [".host covers hosts below", constraints([email(".acme.test")]), certificate(EMPTY, [email("alice@mail.acme.test")]), true],
    ["one exact mailbox", constraints([email("alice@acme.test")]), certificate(EMPTY, [email("bob@acme.test")]), false],
    ["emailAddress in the subject DN", constraints([email("acme.test")]), certificate(name(rdn(atv(T.emailAddress, ia5("eve@evil.test"))))), false],
    ["a mailbox without @", constraints([], [email("evil.test")]), certificate(EMPTY, [email("nobody")]), false],
    // iPAddress
    ["an IPv4 address in the range", constraints([ip(10, 0, 0, 0, 255, 0, 0, 0)]), certificate(EMPTY, [ip(10, 9, 8, 7)]), true],
    ["an IPv4 address outside", constraints([ip(10, 0, 0, 0, 255, 0, 0, 0)]), certificate(EMPTY, [ip(11, 9, 8, 7)]), false],
    ["an IPv6 address against IPv4 ranges only", constraints([ip(10, 0, 0, 0, 255, 0, 0, 0)]), certificate(EMPTY, [ip(...new Array<number>(16).fill(0))]), false],
    // forms not compared
    ["a URI SAN under a URI constraint", constraints([uri(".acme.test")]), certificate(EMPTY, [uri("https://www.acme.test/")]), false],
    ["a URI constraint and no URI SAN", constraints([uri(".acme.test")]), certificate(acmeName("x"), [dns("www.acme.test")]), true],
  ];
  for (const [title, nameConstraints, cert, ok] of rows) {
    test(`${title} → ${ok ? "ok" : "violation"}`, () => assert.equal(nameConstraintsViolation(nameConstraints, cert) === undefined, ok));
  }
});

