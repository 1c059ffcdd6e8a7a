/**
 * Delegated responder certificates are checked when Vouch can (issue 12): a forwarded response signed
 * by a delegated OCSP signer that Vouch's own sources (another responder of the same process, serving
 * the CA from its index.txt) know to be revoked is refused, although the signer carries
 * id-pkix-ocsp-nocheck; the same remote with a signer in good standing is believed. The remotes are
 * OpenSSL's own responder; the client is `openssl ocsp`.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, issueCertificate, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { openssl } from "../support/openssl.ts";
import { startOpensslResponder } from "../support/openssl-responder.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let dir: string;
let pki: Pki;
let vouch: VouchProcess;
const remotes: { stop: () => Promise<void> }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-revoked-signer-"));
  pki = await createPki({ dir: join(dir, "pki") });
  const revokedSigner = await issueCertificate(pki, "revoked-signer", { commonName: "Revoked OCSP Signer", extensions: "signer_ext" });
  await revokeCertificate(pki, revokedSigner, "keyCompromise");
  const byRevoked = await startOpensslResponder({ index: pki.index, ca: pki.ca, signer: revokedSigner, key: join(pki.dir, "revoked-signer.key"), validity: ["-nmin", "60"] });
  const byGood = await startOpensslResponder({ index: pki.index, ca: pki.ca, signer: pki.signer, key: pki.signerKey, validity: ["-nmin", "60"] });
  remotes.push(byRevoked, byGood);
  const emptyIndex = join(dir, "empty-index.txt");
  await writeFile(emptyIndex, "");
  const forwarder = (name: string, url: string) =>
    testResponder(name, [{ certificate: pki.foreignCa, signer: { key: join(pki.stateDir, "foreign-ca.key") }, sources: [{ type: "index", file: emptyIndex }] }], {
      path: `/${name}`,
      forwarding: { methods: ["table"], table: [{ issuer: "cn=Vouch Demo Issuing CA,o=Vouch Demo,c=SE", url }] },
    });
  // The forwarding responders find the CA (whose DN the table matches) in the certificate cache.
  const certificates = join(dir, "certificates");
  await mkdir(certificates);
  await copyFile(pki.ca, join(certificates, "ca.pem"));
  vouch = await startVouch(
    vouchConfig({
      trust: { anchors: [pki.root], certificates },
      responders: [testResponder("local", [pkiIssuer(pki)], { path: "/local" }), forwarder("via-revoked", byRevoked.url), forwarder("via-good", byGood.url)],
    }),
  );
});

after(async () => {
  await vouch?.stop();
  await Promise.all(remotes.map((remote) => remote.stop()));
  await rm(dir, { recursive: true, force: true });
});

function ask(path: string): Promise<{ output: string }> {
  return openssl(["ocsp", "-url", `${vouch.baseUrl}/${path}`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca, "-timeout", "10"]);
}

describe("forwarded responses and the delegated signer's own status", () => {
  test("a remote signing with a delegated signer in good standing is believed", async () => {
    const result = await ask("via-good");
    assert.match(result.output, /good\.pem: good/);
  });

  test("a remote signing with a delegated signer that the index says is revoked (nocheck or not) is refused", async () => {
    const result = await ask("via-revoked");
    assert.doesNotMatch(result.output, /good\.pem: good/);
    assert.match(result.output, /Responder Error: trylater/);
    await waitUntil("the refusal in the log", () => vouch.logs.find((line) => line.responder === "via-revoked" && line.result === "signer-revoked"));
  });
});
