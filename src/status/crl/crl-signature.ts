/**
 * Verifies a CRL's signature against its issuer's public key with node:crypto, synchronously: the
 * CRL source loads on threads of its own (crl-load.ts) and verifies there. Measured on Node 24, the
 * callback form of `crypto.verify` still spent ~7 ms per MB on the calling thread before handing
 * over to the thread pool (164 ms for a 45 MB CRL, against 28 ms for the synchronous check).
 */
import type { KeyObject, VerifyKeyObjectInput } from "node:crypto";
import { constants, createVerify, verify } from "node:crypto";
import { CRL_DER, CrlError } from "./crl-error.ts";
import type { ParsedCrl } from "./crl-parse.ts";
import { verifyPlan as signatureVerifyPlan, type VerifyPlan } from "../../signing/verify-plan.ts";

/**
 * Returns when `crl`'s signature verifies with `issuerKey`; throws CrlError when it does not, when
 * the algorithm is not one Vouch supports (RSA PKCS#1 v1.5 with SHA-1/2, RSASSA-PSS with MGF1 over
 * the same SHA-2/SHA-1 hash, ECDSA with SHA-2, Ed25519, ML-DSA), or when the key cannot be used with that
 * algorithm. Synchronous: for a thread that exists to load one CRL (crl-jobs.ts).
 */
export function verifyCrlSignatureNow(crl: ParsedCrl, issuerKey: KeyObject): void {
  const { plan, key } = signatureCheck(crl, issuerKey);
  let ok: boolean;
  try {
    ok = verify(plan.digest, crl.tbsDer, key, crl.signature);
  } catch (error) {
    throw failedCheck(plan, error);
  }
  if (!ok) throw new CrlError(`signature does not verify with the issuer's key (${plan.name})`);
}

/** The plan for `crl`'s algorithm and the key to verify with; throws CrlError when they do not go together. */
function signatureCheck(crl: ParsedCrl, issuerKey: KeyObject): { plan: VerifyPlan; key: VerifyKey } {
  const plan = verifyPlan(crl.signatureAlgorithmDer);
  const keyType = issuerKey.asymmetricKeyType ?? "unknown";
  if (!plan.keyTypes.includes(keyType)) {
    throw new CrlError(`signed with ${plan.name}, but the issuer's key is ${keyType}`);
  }
  const key = plan.pssSaltLength === undefined
    ? issuerKey
    : { key: issuerKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: plan.pssSaltLength };
  return { plan, key };
}

function failedCheck(plan: VerifyPlan, error: unknown): CrlError {
  return new CrlError(`signature check failed (${plan.name}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

type VerifyKey = KeyObject | (VerifyKeyObjectInput & { padding: number; saltLength: number });

/** Decodes a CRL's signature AlgorithmIdentifier into a verify plan (signing/verify-plan.ts); throws CrlError when unsupported. */
export function verifyPlan(algorithmDer: Buffer): VerifyPlan {
  return signatureVerifyPlan(algorithmDer, CRL_DER);
}

/**
 * A CRL's signature checked as its tbsCertList arrives (crl-arriving.ts): `update` with the tbs
 * octets in order, then `verify` once the whole CRL is parsed. `algorithmDer` is the signature
 * AlgorithmIdentifier read from the tbs's start (parseCrl checks later that the outer one is the
 * same). Algorithms that hash internally (Ed25519, ML-DSA), an unsupported one, or a CRL whose
 * parsed algorithm is not the one streamed are verified in one go at `verify`, as verifyCrlSignatureNow does.
 */
export interface ArrivingSignatureCheck {
  update(tbsPart: Buffer): void;
  /** Throws CrlError as verifyCrlSignatureNow does. */
  verify(crl: ParsedCrl): void;
}

export function arrivingSignatureCheck(algorithmDer: Buffer, issuerKey: KeyObject): ArrivingSignatureCheck {
  let digest: string | null;
  try {
    digest = verifyPlan(algorithmDer).digest;
  } catch {
    digest = null;
  }
  const verifier = digest === null ? undefined : createVerify(digest);
  return {
    update(tbsPart) {
      verifier?.update(tbsPart);
    },
    verify(crl) {
      if (verifier === undefined || !crl.signatureAlgorithmDer.equals(algorithmDer)) return verifyCrlSignatureNow(crl, issuerKey);
      const { plan, key } = signatureCheck(crl, issuerKey);
      let ok: boolean;
      try {
        ok = verifier.verify(key, crl.signature);
      } catch (error) {
        throw failedCheck(plan, error);
      }
      if (!ok) throw new CrlError(`signature does not verify with the issuer's key (${plan.name})`);
    },
  };
}
