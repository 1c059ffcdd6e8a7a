import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, readPemDer } from "../../pki/openssl-pki.ts";
import type { Pki } from "../../pki/openssl-pki.ts";
import { CrlError } from "./crl-error.ts";
import { parseCrl } from "./crl-parse.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import { verifyCrlSignatureNow, verifyPlan } from "./crl-signature.ts";

describe("verifyCrlSignatureNow", () => {
  let dir: string;
  let pki: Pki;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-crl-signature-"));
    pki = await createPki({ dir, caKeyType: "rsa-pss-2048" });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const load = async (): Promise<{ der: Buffer; key: X509Certificate["publicKey"] }> => ({
    der: await crlDerOfFile(await readFile(pki.crl)),
    key: new X509Certificate(await readPemDer(pki.ca)).publicKey,
  });

  test("verifies an RSASSA-PSS CRL, and rejects it with one bit flipped", async () => {
    const { der, key } = await load();
    assert.match(verifyPlan(parseCrl(der).signatureAlgorithmDer).name, /^RSASSA-PSS-SHA256$/);
    verifyCrlSignatureNow(parseCrl(der), key);
    const flipped = Buffer.from(der);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 0x01;
    assert.throws(() => verifyCrlSignatureNow(parseCrl(flipped), key), (error: unknown) => error instanceof CrlError && /does not verify/.test(error.message));
  });

  test("refuses a key of the wrong type for the algorithm", async () => {
    const { der } = await load();
    const ecKey = new X509Certificate(await readPemDer(pki.foreignCa)).publicKey;
    assert.throws(() => verifyCrlSignatureNow(parseCrl(der), ecKey), /the issuer's key is ec/);
  });
});
