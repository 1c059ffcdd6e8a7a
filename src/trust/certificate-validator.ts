import type { ProvenStatuses } from "./proven-statuses.ts";

/**
 * The SPEC §3 validation process ("authenticate a certificate"): the contract that the TLS step
 * (SPEC step 1) and the request-signature step (step 3) rely on.
 */

/**
 * What the certificate is being authenticated for; decides the key-usage checks and whether
 * id-pkix-ocsp-nocheck counts (only for "ocsp-signing": a delegated responder certificate that
 * signed an OCSP response, see certificate-checks.ts skipsStatusCheck).
 */
export type ValidationPurpose = "tls-client-auth" | "request-signing" | "ocsp-signing";

/** The check that failed, named for logs, metrics and tests. */
export type CheckName =
  | "malformed"
  | "no-path"
  | "bad-signature"
  | "expired"
  | "not-yet-valid"
  | "revoked"
  | "status-unknown"
  | "not-a-ca"
  | "path-length"
  | "name-constraints"
  | "usage"
  | "depth";

export type ValidationResult =
  | { readonly ok: true; /** The path found, the certificate first, a trust anchor last. */ readonly chain: readonly Buffer[] }
  | { readonly ok: false; readonly failed: CheckName; readonly detail: string };

export interface CertificateValidator {
  /**
   * Runs the validation process on `certificate` (DER) at the validator's clock time. Never throws for
   * a certificate that fails a check (that is a result); throws TryLaterError when a revocation
   * source that serves an issuer on the path cannot answer now. `proofs`: the verified freshness
   * proofs of the request whose signer this is (SPEC step 2), for issuers no source serves; a result
   * that may rest on them concerns that request only. `untrusted`: certificates the client sent with
   * it (a signed request's certs, a TLS client's chain): they may serve as issuers on this path,
   * checked like any other, and are never trusted for being sent.
   */
  authenticate(certificate: Buffer, purpose: ValidationPurpose, signal: AbortSignal, proofs?: ProvenStatuses, untrusted?: readonly Buffer[]): Promise<ValidationResult>;
}
