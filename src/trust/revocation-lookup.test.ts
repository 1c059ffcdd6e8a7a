import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { encodeCertId } from "../ocsp/cert-id.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { CertId } from "../ocsp/types.ts";
import { memorySource } from "../status/memory-source.ts";
import type { StatusSource } from "../status/status-source.ts";
import { revocationLookup } from "./revocation-lookup.ts";
import type { CertificateMaker, Made } from "./test-support/openssl-certificates.ts";
import { EXT, certificateMaker } from "./test-support/openssl-certificates.ts";

let maker: CertificateMaker;
let root: Made;
let ca: Made;
/** The same CA name and key, another certificate (a re-issued CA). */
let reissued: Made;
let leaf: Made;
before(async () => {
  maker = await certificateMaker();
  root = await maker.selfSigned("root", { subject: "/C=SE/O=Acme/CN=Root", extensions: EXT.root });
  ca = await maker.issue("ca", root, { subject: "/C=SE/O=Acme/CN=CA", extensions: EXT.ca });
  reissued = await maker.issue("ca-again", root, { subject: "/C=SE/O=Acme/CN=CA", extensions: EXT.ca, key: ca.key });
  leaf = await maker.issue("leaf", ca, { subject: "/CN=leaf", extensions: EXT.leaf });
});
after(async () => {
  await maker.remove();
});

const clock = fixedClock("2030-01-01T00:00:00Z");
const NEVER = new AbortController().signal;
const revokedSource = (issuer: Made): StatusSource =>
  memorySource({ issuer: issuer.der, entries: new Map([[leaf.serial, { kind: "revoked", revokedAt: new Date("2029-01-01T00:00:00Z") }]]), listsIssued: true, clock });
const recording = (seen: CertId[]): StatusSource => ({
  status: async (id) => {
    seen.push(id);
    return undefined;
  },
});

describe("revocationLookup", () => {
  test("asks the source of the certificate's issuer", async () => {
    const lookup = revocationLookup([{ certificate: root.der, source: revokedSource(root) }, { certificate: ca.der, source: revokedSource(ca) }]);
    assert.equal((await lookup.status(leaf.der, ca.der, NEVER))?.kind, "revoked");
  });

  test("undefined when the given issuer is not the certificate's issuer", async () => {
    const lookup = revocationLookup([{ certificate: root.der, source: revokedSource(root) }]);
    assert.equal(await lookup.status(leaf.der, root.der, NEVER), undefined);
  });

  test("undefined when no configured issuer is the certificate's issuer", async () => {
    const lookup = revocationLookup([{ certificate: root.der, source: revokedSource(root) }]);
    assert.equal(await lookup.status(leaf.der, ca.der, NEVER), undefined);
  });

  test("a re-issued CA certificate (same name and key) finds the same source", async () => {
    const lookup = revocationLookup([{ certificate: reissued.der, source: revokedSource(reissued) }]);
    assert.equal((await lookup.status(leaf.der, ca.der, NEVER))?.kind, "revoked");
  });

  test("the sources of matching issuers are asked in order until one answers", async () => {
    const seen: CertId[] = [];
    const lookup = revocationLookup([{ certificate: ca.der, source: recording(seen) }, { certificate: reissued.der, source: revokedSource(ca) }]);
    assert.equal((await lookup.status(leaf.der, ca.der, NEVER))?.kind, "revoked");
    assert.equal(seen.length, 1);
  });

  test("the CertID is the SHA-1 one a client would send", async () => {
    const seen: CertId[] = [];
    await revocationLookup([{ certificate: ca.der, source: recording(seen) }]).status(leaf.der, ca.der, NEVER);
    const serial = certificateFields(leaf.der).serialNumber;
    assert.equal(seen[0]?.hashAlgorithm, "sha1");
    assert.deepEqual(seen[0]?.serialNumber, serial);
    assert.deepEqual(seen[0]?.der, encodeCertId("sha1", ca.der, serial));
  });

  const invalid: [string, () => unknown, string][] = [
    ["an issuer that is not a certificate", () => revocationLookup([{ certificate: Buffer.from("x"), source: recording([]) }]), "issuers[0].certificate"],
    ["an issuer without a source", () => revocationLookup([{ certificate: ca.der, source: recording([]) }, { certificate: ca.der, source: {} as StatusSource }]), "issuers[1].source"],
  ];
  for (const [title, make, field] of invalid) {
    test(`refuses ${title} (ConfigError ${field})`, () => assert.throws(make, (error: unknown) => error instanceof ConfigError && error.field === field));
  }
});
