/**
 * Signatures per second through a PKCS#11 token (a private SoftHSM2, made here) against the
 * key-file signer, same key, same run, for RSA-2048 and P-256, with 1 and 4 signatures in flight.
 * Also shows the event loop's busy time per signature (event-loop utilisation × time / signatures):
 * the token signer hashes and calls C_SignInit on the loop and C_Sign on libuv's pool, the key-file
 * signer signs ECDSA inline and RSA on the pool.
 *
 *   node bench/pkcs11-sign.ts [seconds-per-case]
 */
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fixedClock } from "../src/clock.ts";
import { recordingLogger } from "../src/observability/logger.ts";
import { generateKey, openssl, readPemDer, type PkiKeyType } from "../src/pki/openssl-pki.ts";
import { keyFileSigner } from "../src/signing/key-file-signer.ts";
import { pkcs11Signer } from "../src/signing/pkcs11-signer.ts";
import type { Signer } from "../src/signing/signer.ts";
import { privateSoftHsm } from "../test/support/softhsm.ts";

const secondsPerCase = Number(process.argv[2] ?? 3);
const PIN = "1234";
process.env.VOUCH_BENCH_PIN = PIN;

/** Keeps `inFlight` signatures of a 300-octet TBS running for the budget; returns signatures/s and loop µs per signature. */
async function measure(signer: Signer, inFlight: number): Promise<{ perSecond: number; loopMicros: number }> {
  const tbs = randomBytes(300);
  const algorithm = signer.algorithms[0]!;
  for (let i = 0; i < 50; i++) await signer.sign(tbs, algorithm);
  let count = 0;
  const utilisation = performance.eventLoopUtilization();
  const start = performance.now();
  const deadline = start + secondsPerCase * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await signer.sign(tbs, algorithm);
        count++;
      }
    }),
  );
  const { active } = performance.eventLoopUtilization(utilisation);
  const elapsed = (performance.now() - start) / 1000;
  return { perSecond: count / elapsed, loopMicros: (active * 1000) / count };
}

const hsm = await privateSoftHsm();
await hsm.initToken("bench", PIN);
const keys: [PkiKeyType, string][] = [["rsa-2048", "RSA-2048 PKCS#1 v1.5 SHA-256"], ["ecdsa-p256", "ECDSA P-256 SHA-256"]];
const certificates = new Map<PkiKeyType, Buffer>();
for (const [type] of keys) {
  const key = join(hsm.dir, `${type}.key`);
  const certificate = join(hsm.dir, `${type}.pem`);
  await generateKey(type, key);
  await openssl(["req", "-new", "-x509", "-key", key, "-subj", `/CN=${type}`, "-days", "2", "-out", certificate]);
  certificates.set(type, await readPemDer(certificate));
  await hsm.importKey("bench", PIN, key, type, type === "rsa-2048" ? "01" : "02");
}

console.log(`| key | signer | in flight | signatures/s | event loop busy per signature (µs) |`);
console.log(`|---|---|---|---|---|`);
for (const [type, name] of keys) {
  const certificate = certificates.get(type)!;
  const fileSigner = await keyFileSigner({ keyFile: join(hsm.dir, `${type}.key`), certificate, rsaPadding: "pkcs1", field: "key" });
  const tokenSigner = await pkcs11Signer({
    module: hsm.module, token: "bench", keyLabel: type, pin: { env: "VOUCH_BENCH_PIN" }, certificate, rsaPadding: "pkcs1",
    sessions: 4, retryIntervalMs: 1000, clock: fixedClock(0), logger: recordingLogger(), field: "pkcs11",
  });
  for (const [label, signer] of [["key file", fileSigner], ["PKCS#11 (SoftHSM2)", tokenSigner]] as const) {
    for (const inFlight of [1, 4]) {
      const result = await measure(signer, inFlight);
      console.log(`| ${name} | ${label} | ${inFlight} | ${Math.round(result.perSecond)} | ${Math.round(result.loopMicros)} |`);
    }
  }
  tokenSigner.close();
}
