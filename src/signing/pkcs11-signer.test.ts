import assert from "node:assert/strict";
import { X509Certificate, constants, randomBytes, verify } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { privateSoftHsm, type SoftHsm } from "../../test/support/softhsm.ts";
import { fixedClock } from "../clock.ts";
import { ConfigError, InternalError } from "../errors.ts";
import { recordingLogger } from "../observability/logger.ts";
import { generateKey, openssl, readPemDer, type PkiKeyType } from "../pki/openssl-pki.ts";
import { pkcs11Signer, type Pkcs11SignerOptions } from "./pkcs11-signer.ts";
import { RSASSA_PSS_SHA256 } from "./signature-algorithms.ts";
import { signerContract } from "./signer.contract.ts";
import type { Signer } from "./signer.ts";

const PIN = "1234";
let hsm: SoftHsm;
const certificates = new Map<string, Buffer>();

/** A key in a PEM file and a self-signed certificate for it. */
async function keyAndCertificate(type: PkiKeyType, name: string): Promise<string> {
  const key = join(hsm.dir, `${name}.key`);
  const certificate = join(hsm.dir, `${name}.pem`);
  await generateKey(type, key);
  await openssl(["req", "-new", "-x509", "-key", key, "-subj", `/CN=${name}`, "-days", "2", "-out", certificate]);
  certificates.set(name, await readPemDer(certificate));
  return key;
}

before(async () => {
  hsm = await privateSoftHsm();
  await writeFile(join(hsm.dir, "pin"), `${PIN}\n`);
  // Every token exists before the library is first initialised (SoftHSM scans at C_Initialize).
  await hsm.initToken("vouch", PIN);
  await hsm.initToken("flaky", PIN);
  for (const [type, name, id] of [["rsa-2048", "rsa", "01"], ["ecdsa-p256", "p256", "02"], ["ecdsa-p384", "p384", "03"], ["ecdsa-p256", "other-p256", "04"]] as const) {
    await hsm.importKey("vouch", PIN, await keyAndCertificate(type, name), name, id);
  }
  await hsm.importKey("flaky", PIN, join(hsm.dir, "p256.key"), "p256", "02");
});

function options(overrides: Partial<Pkcs11SignerOptions> = {}): Pkcs11SignerOptions {
  return {
    module: hsm.module,
    token: "vouch",
    keyLabel: "p256",
    pin: { file: join(hsm.dir, "pin") },
    certificate: certificates.get(overrides.keyLabel ?? "p256")!,
    rsaPadding: "pkcs1",
    sessions: 4,
    retryIntervalMs: 1000,
    clock: fixedClock("2026-12-01T00:00:00Z"),
    logger: recordingLogger(),
    field: "signer.pkcs11",
    ...overrides,
  };
}

/** Signs with every offered algorithm and verifies each signature with node:crypto and the certificate. */
async function assertEveryAlgorithmVerifies(signer: Signer): Promise<void> {
  const publicKey = new X509Certificate(signer.certificate).publicKey;
  for (const algorithm of signer.algorithms) {
    const tbs = randomBytes(200);
    const signature = await signer.sign(tbs, algorithm);
    const { digest, padding, saltLength } = (algorithm as unknown as { recipe: { digest: string; padding?: number; saltLength?: number } }).recipe;
    assert.ok(verify(digest, tbs, padding === undefined ? publicKey : { key: publicKey, padding, saltLength }, signature), `${algorithm.name} verifies`);
  }
}

signerContract("pkcs11Signer (SoftHSM2)", async (key, rsaPadding) => {
  const label = { "rsa-2048": "rsa", "ecdsa-p256": "p256", "ecdsa-p384": "p384" }[key];
  const signer = await pkcs11Signer(options({ keyLabel: label, certificate: certificates.get(label)!, rsaPadding }));
  return { signer, close: () => signer.close() };
});

describe("pkcs11Signer against SoftHSM2", () => {
  test("RSA-2048 signs PKCS#1 v1.5 by default, and PSS on request, each verified by node:crypto", async () => {
    const signer = await pkcs11Signer(options({ keyLabel: "rsa", certificate: certificates.get("rsa")! }));
    assert.deepEqual(signer.algorithms.map((algorithm) => algorithm.name), [
      "sha256WithRSAEncryption", "sha384WithRSAEncryption", "sha512WithRSAEncryption",
      "RSASSA-PSS-SHA256", "RSASSA-PSS-SHA384", "RSASSA-PSS-SHA512",
    ]);
    await assertEveryAlgorithmVerifies(signer);
    signer.close();
  });

  test("rsaPadding pss makes RSASSA-PSS (salt 32) the default, and it is really PSS", async () => {
    const signer = await pkcs11Signer(options({ keyLabel: "rsa", keyId: Buffer.from("01", "hex"), certificate: certificates.get("rsa")!, rsaPadding: "pss" }));
    assert.equal(signer.algorithms[0]!.name, "RSASSA-PSS-SHA256");
    const tbs = randomBytes(100);
    const signature = await signer.sign(tbs, signer.algorithms[0]!);
    const publicKey = new X509Certificate(signer.certificate).publicKey;
    assert.ok(verify("sha256", tbs, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature));
    assert.ok(!verify("sha256", tbs, publicKey, signature), "not a PKCS#1 v1.5 signature");
    signer.close();
  });

  test("ECDSA P-256 and P-384 give DER ECDSA-Sig-Values that verify", async () => {
    for (const [name, first] of [["p256", "ecdsa-with-SHA256"], ["p384", "ecdsa-with-SHA384"]] as const) {
      const signer = await pkcs11Signer(options({ keyLabel: name, certificate: certificates.get(name)! }));
      assert.equal(signer.algorithms[0]!.name, first);
      await assertEveryAlgorithmVerifies(signer);
      const signature = await signer.sign(randomBytes(10), signer.algorithms[0]!);
      assert.equal(signature[0], 0x30, "a DER SEQUENCE, not raw r || s");
      signer.close();
    }
  });

  test("many signatures at once share a bounded number of sessions and all verify", async () => {
    const signer = await pkcs11Signer(options({ sessions: 2 }));
    const publicKey = new X509Certificate(signer.certificate).publicKey;
    const inputs = Array.from({ length: 40 }, () => randomBytes(64));
    const signatures = await Promise.all(inputs.map((tbs) => signer.sign(tbs, signer.algorithms[0]!)));
    signatures.forEach((signature, index) => assert.ok(verify("sha256", inputs[index]!, publicKey, signature)));
    signer.close();
  });

  test("a signature the token cannot make fails that request alone, and the next one is signed", async () => {
    const signer = await pkcs11Signer(options({ keyLabel: "rsa", certificate: certificates.get("rsa")! }));
    // PSS with a salt longer than a 2048-bit modulus allows (SoftHSM answers CKR_GENERAL_ERROR).
    const impossible = { ...RSASSA_PSS_SHA256, recipe: { ...RSASSA_PSS_SHA256.recipe, saltLength: 1000 } };
    await assert.rejects(async () => signer.sign(randomBytes(32), impossible), (error: unknown) => error instanceof InternalError && /signing with RSASSA-PSS-SHA256 failed \(CKR_/.test(error.message));
    await assertEveryAlgorithmVerifies(signer);
    signer.close();
  });

  test("the PIN can come from an environment variable", async () => {
    process.env.VOUCH_TEST_PIN = PIN;
    const signer = await pkcs11Signer(options({ pin: { env: "VOUCH_TEST_PIN" } }));
    await assertEveryAlgorithmVerifies(signer);
    signer.close();
  });
});

describe("pkcs11Signer start-up errors name the setting", () => {
  const cases: { name: string; overrides: () => Partial<Pkcs11SignerOptions>; field: string; message: RegExp }[] = [
    { name: "a module that is not a PKCS#11 library", overrides: () => ({ module: "/nonexistent/libnothing.so" }), field: "signer.pkcs11.module", message: /cannot load the PKCS#11 library/ },
    { name: "an unknown token label", overrides: () => ({ token: "nosuch" }), field: "signer.pkcs11.token", message: /no token labelled "nosuch" \(tokens present: .*"vouch"/ },
    { name: "a slot holding another token", overrides: () => ({ slot: 9 }), field: "signer.pkcs11.slot", message: /there is no slot 9/ },
    { name: "a wrong PIN", overrides: () => ({ pin: { env: "VOUCH_WRONG_PIN" } }), field: "signer.pkcs11.pin", message: /rejected the PIN \(CKR_PIN_INCORRECT\)/ },
    { name: "a missing PIN file", overrides: () => ({ pin: { file: join(hsm.dir, "no-pin") } }), field: "signer.pkcs11.pin.file", message: /file not found/ },
    { name: "an unset PIN variable", overrides: () => ({ pin: { env: "VOUCH_UNSET_PIN" } }), field: "signer.pkcs11.pin.env", message: /VOUCH_UNSET_PIN is not set/ },
    { name: "a key label not on the token", overrides: () => ({ keyLabel: "nokey", certificate: certificates.get("p256")! }), field: "signer.pkcs11.key", message: /no private key labelled "nokey"/ },
    { name: "a key of another type than the certificate's", overrides: () => ({ keyLabel: "rsa", certificate: certificates.get("p256")! }), field: "signer.pkcs11.key", message: /is RSA, but the signer certificate holds an EC key/ },
    { name: "a key that does not belong to the certificate", overrides: () => ({ keyLabel: "other-p256", certificate: certificates.get("p256")! }), field: "signer.pkcs11.key", message: /does not belong to the signer certificate/ },
  ];
  for (const { name, overrides, field, message } of cases) {
    test(name, async () => {
      process.env.VOUCH_WRONG_PIN = "9999";
      delete process.env.VOUCH_UNSET_PIN;
      await assert.rejects(pkcs11Signer(options(overrides())), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.field, field);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    });
  }
});

describe("pkcs11Signer when the token fails", () => {
  test("a removed token fails each request with InternalError, and signing resumes once it is back", async () => {
    const clock = fixedClock("2026-12-01T00:00:00Z");
    const logger = recordingLogger();
    const signer = await pkcs11Signer(options({ token: "flaky", clock, logger }));
    const algorithm = signer.algorithms[0]!;
    await signer.sign(randomBytes(32), algorithm);

    const restore = await hsm.remove("flaky");
    // The signature fails (CKR_OBJECT_HANDLE_INVALID), the one reconnection it may try fails too.
    await assert.rejects(async () => signer.sign(randomBytes(32), algorithm), (error: unknown) => error instanceof InternalError && /is unavailable \(no token labelled "flaky"/.test(error.message));
    assert.ok(logger.records.some((record) => record.message.startsWith("PKCS#11 token error") && /CKR_OBJECT_HANDLE_INVALID/.test(String(record.fields.reason))));
    // Until the retry interval has passed, requests are refused at once, without touching the token.
    await restore();
    await assert.rejects(async () => signer.sign(randomBytes(32), algorithm), (error: unknown) => error instanceof InternalError && /retrying every 1000 ms/.test(error.message));

    clock.advance(1000);
    await assertEveryAlgorithmVerifies(signer);
    assert.ok(logger.records.some((record) => record.message === "PKCS#11 token reconnected"));
    signer.close();
    await assert.rejects(async () => signer.sign(randomBytes(32), algorithm), InternalError);
  });

  test("signatures in flight when the token goes away each end, signed or with InternalError, and none hangs", async () => {
    const clock = fixedClock("2026-12-01T00:00:00Z");
    const signer = await pkcs11Signer(options({ token: "flaky", clock, sessions: 2 }));
    const publicKey = new X509Certificate(signer.certificate).publicKey;
    const inputs = Array.from({ length: 30 }, () => randomBytes(64));
    const pending = inputs.map((tbs) => signer.sign(tbs, signer.algorithms[0]!));
    const restore = await hsm.remove("flaky");
    const outcomes = await Promise.allSettled(pending);
    await restore();
    let failed = 0;
    outcomes.forEach((outcome, index) => {
      if (outcome.status === "fulfilled") assert.ok(verify("sha256", inputs[index]!, publicKey, outcome.value));
      else {
        assert.ok(outcome.reason instanceof InternalError, String(outcome.reason));
        failed++;
      }
    });
    assert.ok(failed > 0, "the removal was seen by the requests still waiting");
    clock.advance(1000);
    await assertEveryAlgorithmVerifies(signer);
    signer.close();
  });

  test("a token re-initialised with a new PIN: the old PIN is tried once, and the new one is picked up from the PIN file", async () => {
    const clock = fixedClock("2026-12-01T00:00:00Z");
    const pinFile = join(hsm.dir, "flaky-pin");
    await writeFile(pinFile, PIN);
    const signer = await pkcs11Signer(options({ token: "flaky", clock, pin: { file: pinFile } }));
    const algorithm = signer.algorithms[0]!;
    await signer.sign(randomBytes(32), algorithm);

    await hsm.reinitToken("flaky", "4321");
    // The key handle is gone (CKR_OBJECT_HANDLE_INVALID); the reconnection tries the PIN file's PIN, once.
    await assert.rejects(async () => signer.sign(randomBytes(32), algorithm), (error: unknown) => error instanceof InternalError && /rejected the PIN \(CKR_PIN_INCORRECT\)/.test(error.message));
    clock.advance(1000);
    await assert.rejects(async () => signer.sign(randomBytes(32), algorithm), (error: unknown) => error instanceof InternalError && /rejected this PIN before; it is not tried again/.test(error.message));

    await hsm.importKey("flaky", "4321", join(hsm.dir, "p256.key"), "p256", "02");
    await writeFile(pinFile, "4321\n");
    clock.advance(1000);
    await assertEveryAlgorithmVerifies(signer);
    signer.close();
  });
});
