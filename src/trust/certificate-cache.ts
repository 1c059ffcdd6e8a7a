import type { HashAlgorithm } from "../ocsp/types.ts";

/** One tier's size, for metrics and tests. */
export interface CertificateCacheTier {
  readonly tier: "persistent" | "authenticated" | "unauthenticated";
  readonly certificates: number;
  readonly bytes: number;
}

/**
 * The SPEC §1 certificate cache: known certificates that are not trust anchors, in three tiers.
 * - persistent: configured intermediates, remote responder certificates and served CAs, loaded at
 *   start, never evicted;
 * - authenticated: certificates on a path the validation process accepted (bounded by count and
 *   bytes, oldest evicted);
 * - unauthenticated: certificates clients sent (a signed request's certs, a TLS client's chain) that
 *   nobody has vouched for yet: a small tier of its own (bounded, oldest evicted), so that a flood of
 *   junk replaces only junk and never crowds out or slows down the trusted tiers.
 * Certificates from clients are untrusted until authenticated: they may help build a path (the
 * path-building lookups return a few of them, after the trusted tiers), but what forwarding uses
 * (CertID key hashes, `fromcert` targets) comes only from the trusted tiers.
 */
export interface CertificateCache {
  /**
   * Adds a certificate (DER) that a client sent and nobody has authenticated yet to the
   * unauthenticated tier; a certificate already in any tier is not added again.
   */
  add(certificate: Buffer): void;
  /**
   * Adds a certificate the validation process authenticated (a non-anchor certificate of an accepted
   * path) to the authenticated tier, taking it out of the unauthenticated one.
   */
  addAuthenticated(certificate: Buffer): void;
  /**
   * Certificates whose subject Name DER equals `subjectDer`: the trusted tiers' (persistent first, then
   * the newest authenticated), then at most a few of the newest unauthenticated ones.
   */
  findBySubject(subjectDer: Buffer): readonly Buffer[];
  /** Certificates whose subjectKeyIdentifier equals `keyIdentifier`, in the order of findBySubject. */
  findBySubjectKeyId(keyIdentifier: Buffer): readonly Buffer[];
  /**
   * Certificates named by a requestorName GeneralName TLV (RFC 6960 §4.1.1), in the order of
   * findBySubject; only directoryName [4] can name a certificate's subject, other forms find nothing.
   */
  findByGeneralName(generalNameDer: Buffer): readonly Buffer[];
  /**
   * Trusted CA certificates (basicConstraints cA) whose subjectPublicKey hashes to `keyHash` with
   * `algorithm`: the candidate issuers of a CertID (RFC 6960 §4.1.1), for forwarding (SPEC step 6).
   */
  findByKeyHash(algorithm: HashAlgorithm, keyHash: Buffer): readonly Buffer[];
  /** The trusted certificate with this issuer Name DER and serialNumber content octets (forwarding's `fromcert`). */
  findByIssuerAndSerial(issuerDer: Buffer, serialNumber: Buffer): readonly Buffer[];
  /** Each tier's size, for metrics and tests. */
  tiers(): readonly CertificateCacheTier[];
}
