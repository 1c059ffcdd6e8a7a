import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { silentLogger } from "../observability/logger.ts";
import type { Pki } from "../pki/openssl-pki.ts";
import { createPki, readPemDer } from "../pki/openssl-pki.ts";
import { memorySource } from "../status/memory-source.ts";
import { openIndexSource } from "../status/index/index-loader.ts";
import type { OpenedSource } from "../status/status-source.ts";
import type { CheckName, ValidationPurpose } from "./certificate-validator.ts";
import { certificateCache } from "./memory-certificate-cache.ts";
import { revocationLookup } from "./revocation-lookup.ts";
import type { CertificateMaker } from "./test-support/openssl-certificates.ts";
import { EXT, certificateMaker } from "./test-support/openssl-certificates.ts";
import { certificateValidator } from "./validate-certificate.ts";

/** The demo PKI of `vouch demo`, with its CA database (index.txt) as the issuing CA's source. */
let dir: string;
let pki: Pki;
let maker: CertificateMaker;
let source: OpenedSource;
const der = {} as Record<"root" | "ca" | "good" | "revoked" | "signer" | "foreign" | "notIssued", Buffer>;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-trust-pki-"));
  pki = await createPki({ dir });
  maker = await certificateMaker();
  for (const [name, file] of [["root", pki.root], ["ca", pki.ca], ["good", pki.good], ["revoked", pki.revoked], ["signer", pki.signer], ["foreign", pki.foreign]] as const) {
    der[name] = await readPemDer(file);
  }
  // Signed with the CA's key outside `openssl ca`: index.txt has never heard of it.
  const outside = await maker.issue("outside", { name: "ca", der: der.ca, pem: pki.ca, key: pki.caKey, serial: "" }, { subject: "/C=SE/O=Vouch Demo/CN=outside", extensions: EXT.leaf });
  der.notIssued = outside.der;
  source = await openIndexSource({ file: pki.index, issuer: der.ca, clock: fixedClock(0), logger: silentLogger });
});
after(async () => {
  await source.close();
  await maker.remove();
  await rm(dir, { recursive: true, force: true });
});

function validator(unknownStatus: "fail" | "pass") {
  const clock = fixedClock(Date.parse(new X509Certificate(der.good).validFrom) + 3_600_000);
  return certificateValidator({
    anchors: [der.root],
    cache: certificateCache({ persistent: [der.ca], maxCount: 10, maxBytes: 100_000 }),
    revocation: revocationLookup([
      { certificate: der.root, source: memorySource({ issuer: der.root, entries: new Map(), listsIssued: false, clock }) },
      { certificate: der.ca, source },
    ]),
    clock,
    unknownStatus,
  });
}

describe("statuses from an openssl CA database (index.txt)", () => {
  const rows: [string, keyof typeof der, ValidationPurpose, "fail" | "pass", CheckName | "ok"][] = [
    ["a V entry", "good", "tls-client-auth", "fail", "ok"],
    ["an R entry", "revoked", "tls-client-auth", "fail", "revoked"],
    ["a certificate the database never issued, policy fail", "notIssued", "tls-client-auth", "fail", "status-unknown"],
    ["a certificate the database never issued, policy pass", "notIssued", "tls-client-auth", "pass", "ok"],
    ["the delegated OCSP signer, for request signing", "signer", "request-signing", "fail", "ok"],
    ["a certificate of the foreign CA", "foreign", "tls-client-auth", "fail", "no-path"],
  ];
  for (const [title, name, purpose, unknownStatus, expected] of rows) {
    test(`${title} → ${expected}`, async () => {
      const result = await validator(unknownStatus).authenticate(der[name], purpose, new AbortController().signal);
      assert.equal(result.ok ? "ok" : result.failed, expected, result.ok ? "" : result.detail);
    });
  }
});
