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
  /** Signs `tbs` with `algorithm` (one of `algorithms`); rejects with InternalError on failure. */
  sign(tbs: Buffer, algorithm: SignatureAlgorithm): Promise<Buffer>;
}
