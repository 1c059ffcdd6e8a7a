import assert from "node:assert/strict";
import { X509Certificate, constants, randomBytes, verify, type KeyObject } from "node:crypto";
import { describe, test } from "node:test";
import type { Signer } from "./signer.ts";

/** The keys every signer kind is tried with. */
export const CONTRACT_KEYS = ["rsa-2048", "ecdsa-p256", "ecdsa-p384"] as const;
export type ContractKey = (typeof CONTRACT_KEYS)[number];

/** A signer built for one test, and how to let it go. */
export interface SignerUnderTest {
  readonly signer: Signer;
  close(): void;
}

/** What each algorithm name promises, checked here with node:crypto and the certificate's public key alone. */
const PROMISES: Readonly<Record<string, { readonly digest: string; readonly pss?: true }>> = {
  sha256WithRSAEncryption: { digest: "sha256" },
  sha384WithRSAEncryption: { digest: "sha384" },
  sha512WithRSAEncryption: { digest: "sha512" },
  "RSASSA-PSS-SHA256": { digest: "sha256", pss: true },
  "RSASSA-PSS-SHA384": { digest: "sha384", pss: true },
  "RSASSA-PSS-SHA512": { digest: "sha512", pss: true },
  "ecdsa-with-SHA256": { digest: "sha256" },
  "ecdsa-with-SHA384": { digest: "sha384" },
  "ecdsa-with-SHA512": { digest: "sha512" },
};

/** What each key offers, the default first (RSA: PKCS#1 v1.5 unless rsaPadding is pss). */
const OFFERED: Readonly<Record<ContractKey, readonly string[]>> = {
  "rsa-2048": ["sha256WithRSAEncryption", "sha384WithRSAEncryption", "sha512WithRSAEncryption", "RSASSA-PSS-SHA256", "RSASSA-PSS-SHA384", "RSASSA-PSS-SHA512"],
  "ecdsa-p256": ["ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"],
  "ecdsa-p384": ["ecdsa-with-SHA384", "ecdsa-with-SHA512", "ecdsa-with-SHA256"],
};

/** Whether `signature` is `name`'s signature of `tbs` by `publicKey` (PSS: salt as long as the digest, as RFC 4055 profiles). */
function verifies(name: string, tbs: Buffer, publicKey: KeyObject, signature: Buffer): boolean {
  const promise = PROMISES[name];
  assert.ok(promise !== undefined, `an algorithm the contract knows: ${name}`);
  const saltLength = { sha256: 32, sha384: 48, sha512: 64 }[promise.digest as "sha256"];
  return verify(promise.digest, tbs, promise.pss === true ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength } : publicKey, signature);
}

/**
 * The behaviours every Signer must have, run by each signer kind's test file (key file, PKCS#11
 * token): for an RSA, a P-256 and a P-384 key it offers the algorithms its key can make, the default
 * first; every signature verifies against its certificate as the algorithm's name says (and not
 * over other bytes); RSA signs PSS first on request and PKCS#1 v1.5 otherwise; ECDSA gives DER
 * ECDSA-Sig-Values; many signatures at once all verify.
 */
export function signerContract(signerName: string, build: (key: ContractKey, rsaPadding: "pkcs1" | "pss") => Promise<SignerUnderTest>): void {
  describe(`${signerName} (Signer contract)`, () => {
    for (const key of CONTRACT_KEYS) {
      test(`${key}: offers ${OFFERED[key][0]} first, and every algorithm it offers signs what its name says, over exactly the bytes given`, async () => {
        const { signer, close } = await build(key, "pkcs1");
        try {
          assert.deepEqual(signer.algorithms.map((algorithm) => algorithm.name), OFFERED[key]);
          const publicKey = new X509Certificate(signer.certificate).publicKey;
          for (const algorithm of signer.algorithms) {
            const tbs = randomBytes(200);
            const signature = await signer.sign(tbs, algorithm);
            assert.ok(verifies(algorithm.name, tbs, publicKey, signature), `${algorithm.name} verifies`);
            const other = Buffer.from(tbs);
            other[0]! ^= 1;
            assert.ok(!verifies(algorithm.name, other, publicKey, signature), `${algorithm.name} does not verify over other bytes`);
            if (key.startsWith("ecdsa")) assert.equal(signature[0], 0x30, "a DER ECDSA-Sig-Value, not raw r || s");
          }
        } finally {
          close();
        }
      });
    }

    test("rsa-2048 with rsaPadding pss: RSASSA-PSS-SHA256 first, and it is really PSS", async () => {
      const { signer, close } = await build("rsa-2048", "pss");
      try {
        assert.deepEqual(signer.algorithms.map((algorithm) => algorithm.name), [...OFFERED["rsa-2048"].slice(3), ...OFFERED["rsa-2048"].slice(0, 3)]);
        const tbs = randomBytes(100);
        const signature = await signer.sign(tbs, signer.algorithms[0]!);
        const publicKey = new X509Certificate(signer.certificate).publicKey;
        assert.ok(verifies("RSASSA-PSS-SHA256", tbs, publicKey, signature));
        assert.ok(!verifies("sha256WithRSAEncryption", tbs, publicKey, signature), "not a PKCS#1 v1.5 signature");
      } finally {
        close();
      }
    });

    test("40 signatures asked at once all verify", async () => {
      const { signer, close } = await build("ecdsa-p256", "pkcs1");
      try {
        const publicKey = new X509Certificate(signer.certificate).publicKey;
        const inputs = Array.from({ length: 40 }, () => randomBytes(64));
        const signatures = await Promise.all(inputs.map((tbs) => signer.sign(tbs, signer.algorithms[0]!)));
        signatures.forEach((signature, index) => assert.ok(verifies("ecdsa-with-SHA256", inputs[index]!, publicKey, signature), `signature ${index}`));
      } finally {
        close();
      }
    });
  });
}
