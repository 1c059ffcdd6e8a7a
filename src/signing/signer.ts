import type { Awaitable } from "../awaitable.ts";
import type { AlgorithmIdentifier } from "../ocsp/types.ts";

/** A signature algorithm a signer can produce, with its AlgorithmIdentifier DER (RFC 6960 §4.4.7). */
export interface SignatureAlgorithm {
  /** e.g. "ecdsa-with-SHA256", "sha256WithRSAEncryption", "RSASSA-PSS-SHA256", "Ed25519". */
  readonly name: string;
  readonly identifier: AlgorithmIdentifier;
}

/**
 * The key that signs responses for one issuer (SPEC §1 "Signer"): a key file today, a PKCS#11
 * token later. The certificate is the CA's own or a delegated responder certificate.
 */
export interface Signer {
  /** The signer's certificate DER. */
  readonly certificate: Buffer;
  /** What this key can sign with, the default (preferred) first. */
  readonly algorithms: readonly SignatureAlgorithm[];
  /**
   * Signs `tbs` with `algorithm` (one of `algorithms`): the signature itself when the key signs on the
   * calling thread (P-256, Ed25519), a promise when it signs elsewhere (RSA on the thread pool, a
   * token). Failures throw, or reject, with InternalError (TryLaterError when overloaded).
   */
  sign(tbs: Buffer, algorithm: SignatureAlgorithm): Awaitable<Buffer>;
}
