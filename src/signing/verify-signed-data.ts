import { constants, verify, type KeyObject } from "node:crypto";
import { verifyPlan } from "../status/crl-signature.ts";

/**
 * Verifies `signature` over `data` (the exact signed bytes) with `publicKey`, for the signature
 * AlgorithmIdentifier `algorithmDer`: RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA or Ed25519 (the algorithms
 * CRLs and signed requests use). The check runs on libuv's thread pool. Resolves false when the
 * signature does not verify, the algorithm is unsupported, or the key cannot make it; never rejects.
 */
export async function verifySignedData(algorithmDer: Buffer, data: Buffer, publicKey: KeyObject, signature: Buffer): Promise<boolean> {
  let plan: ReturnType<typeof verifyPlan>;
  try {
    plan = verifyPlan(algorithmDer);
  } catch {
    return false;
  }
  if (!plan.keyTypes.includes(publicKey.asymmetricKeyType ?? "")) return false;
  const key = plan.pssSaltLength === undefined ? publicKey : { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: plan.pssSaltLength };
  return new Promise((resolve) => {
    verify(plan.digest, data, key, signature, (error, result) => resolve(error === null && result));
  });
}
