import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { createPki, openssl, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { nextSignerSubject, requestPem } from "./certification-request.ts";
import { generateSignerKey, keyCertificationRequest } from "./new-signer-key.ts";

let pki: Pki;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-csr-"));
  pki = await createPki({ dir: join(dir, "pki"), caKeyType: "rsa-2048" });
});

async function requestText(der: Buffer): Promise<string> {
  const file = join(dir, `request-${Math.random().toString(36).slice(2)}.csr`);
  await writeFile(file, requestPem(der));
  const { stdout, stderr } = await openssl(["req", "-in", file, "-verify", "-noout", "-text"]);
  return `${stdout}\n${stderr}`;
}

test("a delegated signer's next request asks for its subject; openssl verifies it and reads the delegated responder profile", async () => {
  const subject = nextSignerSubject(await readPemDer(pki.signer), await readPemDer(pki.ca));
  const text = await requestText(await keyCertificationRequest(await generateSignerKey("rsa-pss-2048"), subject, "pss"));
  assert.match(text, /verify OK/);
  assert.match(text, /Subject: C ?= ?SE, O ?= ?Vouch Demo, CN ?= ?Vouch Demo OCSP Signer/);
  assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /Key Usage: critical\s+Digital Signature/);
  assert.match(text, /Extended Key Usage: \s*OCSP Signing/);
  assert.match(text, /OCSP No Check/);
  assert.match(text, /Signature Algorithm: rsassaPss/);
});

test("when the CA signs for itself, the next signer is named after the CA with \" OCSP Responder\" after its common name", async () => {
  const ca = await readPemDer(pki.ca);
  const text = await requestText(await keyCertificationRequest(await generateSignerKey("ecdsa-p384"), nextSignerSubject(ca, ca)));
  assert.match(text, /Subject: C ?= ?SE, O ?= ?Vouch Demo, CN ?= ?Vouch Demo Issuing CA OCSP Responder/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA384/);
});
