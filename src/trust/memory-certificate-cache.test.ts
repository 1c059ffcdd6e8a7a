import assert from "node:assert/strict";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { issuerHashes } from "../ocsp/cert-id.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { explicit, tlv } from "../ocsp/der-writer.ts";
import { UNAUTHENTICATED_PER_LOOKUP, certificateCache, loadCertificateFolder } from "./memory-certificate-cache.ts";
import { parseCertificate } from "./parse-certificate.ts";
import type { CertificateMaker, Made } from "./test-support/openssl-certificates.ts";
import { EXT, certificateMaker } from "./test-support/openssl-certificates.ts";

let maker: CertificateMaker;
let root: Made;
let ca: Made;
/** Four leaves; a and b share a subject. */
let leaves: Made[];
before(async () => {
  maker = await certificateMaker();
  root = await maker.selfSigned("root", { subject: "/C=SE/O=Acme/CN=Root", extensions: EXT.root });
  ca = await maker.issue("ca", root, { subject: "/C=SE/O=Acme/CN=CA", extensions: EXT.ca });
  leaves = await Promise.all(
    ["/CN=same", "/CN=same", "/CN=c", "/CN=d"].map((subject, i) => maker.issue(`leaf${i}`, ca, { subject, extensions: EXT.leaf })),
  );
});
after(async () => {
  await maker.remove();
});

const subjectOf = (made: Made): Buffer => certificateFields(made.der).subjectDer;
const skiOf = (made: Made): Buffer => parseCertificate(made.der).subjectKeyId!;
const cache = (maxCount = 10, maxBytes = 100_000, persistent: readonly Buffer[] = [root.der, ca.der]) => certificateCache({ persistent, maxCount, maxBytes });

const sizes = (c: ReturnType<typeof cache>): Record<string, { certificates: number; bytes: number }> =>
  Object.fromEntries(c.tiers().map((tier) => [tier.tier, { certificates: tier.certificates, bytes: tier.bytes }]));

describe("certificateCache lookups", () => {
  test("by subject: persistent, then authenticated (newest first), then unauthenticated", () => {
    const c = cache();
    c.add(leaves[1]!.der);
    c.addAuthenticated(leaves[0]!.der);
    assert.deepEqual(c.findBySubject(subjectOf(ca)), [ca.der]);
    assert.deepEqual(c.findBySubject(subjectOf(leaves[0]!)), [leaves[0]!.der, leaves[1]!.der]);
    assert.deepEqual(c.findBySubject(Buffer.from("3000", "hex")), []);
  });

  test("by subject key identifier", () => {
    const c = cache();
    c.add(leaves[2]!.der);
    assert.deepEqual(c.findBySubjectKeyId(skiOf(ca)), [ca.der]);
    assert.deepEqual(c.findBySubjectKeyId(skiOf(leaves[2]!)), [leaves[2]!.der]);
    assert.deepEqual(c.findBySubjectKeyId(Buffer.alloc(20)), []);
  });

  test("by CertID issuer key hash: trusted CA certificates for every hash algorithm, never a leaf", () => {
    const c = cache();
    for (const leaf of leaves) c.addAuthenticated(leaf.der);
    for (const [algorithm, hashes] of issuerHashes(ca.der)) assert.deepEqual(c.findByKeyHash(algorithm, hashes.keyHash), [ca.der], algorithm);
    const leafKeyHash = issuerHashes(leaves[2]!.der).get("sha1")!.keyHash;
    assert.deepEqual(c.findByKeyHash("sha1", leafKeyHash), []);
    assert.deepEqual(c.findByKeyHash("sha256", issuerHashes(ca.der).get("sha1")!.keyHash), []);
  });

  test("by CertID issuer key hash: a CA a client sent counts only once authenticated", () => {
    const c = cache(10, 100_000, [root.der]);
    const keyHash = issuerHashes(ca.der).get("sha1")!.keyHash;
    c.add(ca.der);
    assert.deepEqual(c.findByKeyHash("sha1", keyHash), []);
    c.addAuthenticated(ca.der);
    assert.deepEqual(c.findByKeyHash("sha1", keyHash), [ca.der]);
  });

  test("by issuer and serial: only an authenticated target certificate, gone once evicted", () => {
    const c = cache(1);
    const { issuerDer, serialNumber } = certificateFields(leaves[2]!.der);
    c.add(leaves[2]!.der);
    assert.deepEqual(c.findByIssuerAndSerial(issuerDer, serialNumber), [], "a certificate a client sent is not a forwarding target");
    c.addAuthenticated(leaves[2]!.der);
    assert.deepEqual(c.findByIssuerAndSerial(issuerDer, serialNumber), [leaves[2]!.der]);
    assert.deepEqual(c.findByIssuerAndSerial(subjectOf(leaves[2]!), serialNumber), []);
    c.addAuthenticated(leaves[3]!.der);
    assert.deepEqual(c.findByIssuerAndSerial(issuerDer, serialNumber), []);
  });

  const generalNames: [string, () => Buffer, () => Buffer[]][] = [
    ["directoryName [4] finds the subject", () => explicit(4, subjectOf(ca)), () => [ca.der]],
    ["dNSName finds nothing", () => tlv(0x82, Buffer.from("ca.example")), () => []],
    ["a directoryName nobody has finds nothing", () => explicit(4, Buffer.from("3000", "hex")), () => []],
    ["a truncated TLV finds nothing", () => Buffer.from([0xa4, 0x05, 0x30]), () => []],
    ["trailing octets find nothing", () => Buffer.concat([explicit(4, subjectOf(ca)), Buffer.from([0])]), () => []],
  ];
  for (const [title, generalName, expected] of generalNames) {
    test(`findByGeneralName: ${title}`, () => assert.deepEqual(cache().findByGeneralName(generalName()), expected()));
  }
});

describe("certificateCache tiers", () => {
  test("a certificate already present is not added again; authenticating moves it out of the unauthenticated tier", () => {
    const c = cache();
    c.add(leaves[0]!.der);
    c.add(Buffer.from(leaves[0]!.der));
    c.add(ca.der);
    c.addAuthenticated(ca.der);
    const bytes = leaves[0]!.der.length;
    assert.deepEqual(sizes(c), {
      persistent: { certificates: 2, bytes: root.der.length + ca.der.length },
      authenticated: { certificates: 0, bytes: 0 },
      unauthenticated: { certificates: 1, bytes },
    });
    c.addAuthenticated(leaves[0]!.der);
    c.add(leaves[0]!.der);
    assert.deepEqual(sizes(c).authenticated, { certificates: 1, bytes });
    assert.deepEqual(sizes(c).unauthenticated, { certificates: 0, bytes: 0 });
  });

  test("the oldest goes first when the count is exceeded, from every index", () => {
    const c = cache(2);
    for (const leaf of [leaves[2]!, leaves[0]!, leaves[3]!]) c.addAuthenticated(leaf.der);
    assert.deepEqual(c.findBySubject(subjectOf(leaves[2]!)), []);
    assert.deepEqual(c.findBySubjectKeyId(skiOf(leaves[2]!)), []);
    assert.deepEqual(c.findBySubject(subjectOf(leaves[3]!)), [leaves[3]!.der]);
    assert.equal(sizes(c).authenticated!.certificates, 2);
  });

  test("re-adding does not make a certificate younger", () => {
    const c = cache(2);
    c.addAuthenticated(leaves[2]!.der);
    c.addAuthenticated(leaves[3]!.der);
    c.addAuthenticated(leaves[2]!.der);
    c.addAuthenticated(leaves[0]!.der);
    assert.deepEqual(c.findBySubject(subjectOf(leaves[2]!)), []);
  });

  test("the oldest go first when the bytes are exceeded", () => {
    const c = cache(10, leaves[2]!.der.length + leaves[3]!.der.length + 10);
    for (const leaf of [leaves[2]!, leaves[3]!, leaves[0]!]) c.addAuthenticated(leaf.der);
    assert.equal(sizes(c).authenticated!.certificates, 2);
    assert.deepEqual(c.findBySubject(subjectOf(leaves[2]!)), []);
    assert.ok(sizes(c).authenticated!.bytes <= leaves[2]!.der.length + leaves[3]!.der.length + 10);
  });

  test("the unauthenticated tier has bounds of its own: a flood evicts only its own oldest, never the trusted tiers", () => {
    const c = certificateCache({ persistent: [root.der], maxCount: 10, maxBytes: 100_000, unauthenticated: { maxCount: 2, maxBytes: 100_000 } });
    c.addAuthenticated(ca.der);
    for (const leaf of leaves) c.add(leaf.der);
    assert.equal(sizes(c).unauthenticated!.certificates, 2);
    assert.deepEqual(c.findBySubject(subjectOf(ca)), [ca.der]);
    assert.deepEqual(c.findBySubject(subjectOf(leaves[0]!)), [], "the oldest sent certificates are gone");
    assert.deepEqual(c.findBySubject(subjectOf(leaves[3]!)), [leaves[3]!.der]);
  });

  test("a lookup returns at most UNAUTHENTICATED_PER_LOOKUP unauthenticated certificates, the newest first, after the trusted ones", () => {
    const c = cache();
    c.addAuthenticated(leaves[0]!.der);
    const sameName = Array.from({ length: UNAUTHENTICATED_PER_LOOKUP + 3 }, (_, i) => lookalike(leaves[0]!.der, i));
    for (const der of sameName) c.add(der);
    const found = c.findBySubject(subjectOf(leaves[0]!));
    assert.deepEqual(found, [leaves[0]!.der, ...sameName.slice(-UNAUTHENTICATED_PER_LOOKUP).reverse()]);
  });

  test("the unauthenticated tier never exceeds the authenticated tier's bounds", () => {
    const c = cache(1);
    c.add(leaves[0]!.der);
    c.add(leaves[2]!.der);
    assert.equal(sizes(c).unauthenticated!.certificates, 1);
  });

  test("a certificate bigger than maxBytes, and anything with maxCount 0, is not kept", () => {
    const small = cache(10, 100);
    small.add(leaves[0]!.der);
    small.addAuthenticated(leaves[0]!.der);
    const none = cache(0);
    none.add(leaves[0]!.der);
    none.addAuthenticated(leaves[0]!.der);
    const learned = (c: ReturnType<typeof cache>) => sizes(c).authenticated!.certificates + sizes(c).unauthenticated!.certificates;
    assert.equal(learned(small) + learned(none), 0);
  });

  test("what is not a certificate is ignored", () => {
    const c = cache();
    c.add(Buffer.from("junk"));
    c.addAuthenticated(leaves[0]!.der.subarray(0, 100));
    assert.deepEqual([sizes(c).authenticated!.certificates, sizes(c).unauthenticated!.certificates], [0, 0]);
  });

  test("keeps a copy, not the caller's buffer", () => {
    const c = cache();
    const body = Buffer.concat([Buffer.from("request"), leaves[2]!.der]);
    c.add(body.subarray(7));
    body.fill(0);
    assert.deepEqual(c.findBySubject(subjectOf(leaves[2]!)), [leaves[2]!.der]);
  });
});

/** `der` with its last signature octet changed by `n`: same subject and key, a different certificate. */
function lookalike(der: Buffer, n: number): Buffer {
  const copy = Buffer.from(der);
  copy[copy.length - 1] = (copy[copy.length - 1]! + n + 1) & 0xff;
  return copy;
}

describe("certificateCache options", () => {
  const rows: [string, () => unknown, string][] = [
    ["a persistent entry that is not a certificate", () => certificateCache({ persistent: [root.der, Buffer.from("x")], maxCount: 1, maxBytes: 1 }), "persistent[1]"],
    ["a negative maxCount", () => certificateCache({ persistent: [], maxCount: -1, maxBytes: 1 }), "maxCount"],
    ["a fractional maxBytes", () => certificateCache({ persistent: [], maxCount: 1, maxBytes: 1.5 }), "maxBytes"],
    ["a negative unauthenticated maxCount", () => certificateCache({ persistent: [], maxCount: 1, maxBytes: 1, unauthenticated: { maxCount: -1, maxBytes: 1 } }), "unauthenticated.maxCount"],
  ];
  for (const [title, make, field] of rows) {
    test(`refuses ${title} (ConfigError ${field})`, () => assert.throws(make, (error: unknown) => error instanceof ConfigError && error.field === field));
  }
});

describe("loadCertificateFolder", () => {
  test("reads .pem (bundles too), .crt, .cer and .der in name order, and ignores other files and folders", async () => {
    const dir = join(maker.dir, "folder");
    await mkdir(join(dir, "sub"), { recursive: true });
    const pem = async (made: Made): Promise<string> => readFile(made.pem, "latin1");
    await writeFile(join(dir, "a-bundle.PEM"), (await pem(root)) + (await pem(ca)));
    await copyFile(leaves[0]!.pem, join(dir, "b.crt"));
    await writeFile(join(dir, "c.der"), leaves[2]!.der);
    await copyFile(leaves[3]!.pem, join(dir, "d.cer"));
    await writeFile(join(dir, "notes.txt"), "not a certificate");
    await copyFile(leaves[1]!.pem, join(dir, "sub", "ignored.pem"));
    assert.deepEqual(await loadCertificateFolder(dir, "trust.certificates"), [root.der, ca.der, leaves[0]!.der, leaves[2]!.der, leaves[3]!.der]);
  });

  const bad: [string, string, Buffer | string, RegExp][] = [
    ["a PEM file without certificates", "x.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", /x\.pem/],
    ["a broken PEM certificate", "y.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", /y\.pem/],
    ["a DER file that is not a certificate", "z.der", Buffer.from("3000", "hex"), /z\.der/],
  ];
  for (const [title, file, content, message] of bad) {
    test(`refuses ${title}, naming the file`, async () => {
      const dir = join(maker.dir, `bad-${file}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, file), content);
      await assert.rejects(loadCertificateFolder(dir, "trust.certificates"), (error: unknown) => error instanceof ConfigError && error.field === "trust.certificates" && message.test(error.message));
    });
  }

  test("refuses a missing folder", async () => {
    await assert.rejects(loadCertificateFolder(join(maker.dir, "missing"), "trust.certificates"), (error: unknown) => error instanceof ConfigError && /folder not found/.test(error.message));
  });
});
