import { constants, verify, type KeyObject } from "node:crypto";
import type { DerRules } from "../ocsp/der-reader.ts";
import { verifyPlan } from "./verify-plan.ts";

/**
 * How a signed request's or certificate's signature AlgorithmIdentifier is read: as CRLs' are (no
 * element budget, longer length forms tolerated), which is how it was read before the table left
 * the CRL module. Any failure only makes the signature not verify.
 */
const ALGORITHM_DER: DerRules = {
  maxDepth: 32,
  maxElements: Number.POSITIVE_INFINITY,
  minimalLengths: false,
  label: "bad AlgorithmIdentifier DER",
  error: (message) => new Error(message),
};

/**
 * Verifies `signature` over `data` (the exact signed bytes) with `publicKey`, for the signature
 * AlgorithmIdentifier `algorithmDer`: RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA or Ed25519 (the algorithms
 * CRLs and signed requests use). Keys whose check is cheap are verified inline, the others on
 * libuv's thread pool (see `verifiesInline`). Resolves false when the signature does not verify,
 * the algorithm is unsupported, or the key cannot make it; never rejects.
 */
export async function verifySignedData(algorithmDer: Buffer, data: Buffer, publicKey: KeyObject, signature: Buffer): Promise<boolean> {
  let plan: ReturnType<typeof verifyPlan>;
  try {
    plan = verifyPlan(algorithmDer, ALGORITHM_DER);
  } catch {
    return false;
  }
  if (!plan.keyTypes.includes(publicKey.asymmetricKeyType ?? "")) return false;
  const key = plan.pssSaltLength === undefined ? publicKey : { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: plan.pssSaltLength };
  if (verifiesInline(publicKey)) {
    try {
      return verify(plan.digest, data, key, signature);
    } catch {
      return false;
    }
  }
  return new Promise((resolve) => {
    verify(plan.digest, data, key, signature, (error, result) => resolve(error === null && result));
  });
}

/**
 * RSA (up to 4096 bits), Ed25519 and P-256 verify in 30–70 µs. Measured under load with signed
 * requests, a thread-pool round trip saved the main thread nothing (the wake-ups cost what the
 * check did) and added ~100 µs of CPU per request, so these run inline. P-384 (~550 µs) and P-521
 * (~1.3 ms) would stall every other request and go to the pool.
 */
function verifiesInline(publicKey: KeyObject): boolean {
  let inline = inlineKeys.get(publicKey);
  if (inline === undefined) {
    inline = isCheapToVerify(publicKey);
    inlineKeys.set(publicKey, inline);
  }
  return inline;
}

/** The decision per key object: `asymmetricKeyDetails` asks OpenSSL anew on every read. */
const inlineKeys = new WeakMap<KeyObject, boolean>();

function isCheapToVerify(publicKey: KeyObject): boolean {
  const details = publicKey.asymmetricKeyDetails;
  switch (publicKey.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return (details?.modulusLength ?? Infinity) <= 4096;
    case "ed25519":
      return true;
    case "ec":
      return details?.namedCurve === "prime256v1";
    default:
      return false;
  }
}
