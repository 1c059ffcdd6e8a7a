import type { HashAlgorithm } from "../ocsp/types.ts";

/**
 * The SPEC §1 certificate cache: known certificates that are not trust anchors. A persistent part
 * (configured intermediates and remote responder certificates, loaded at start) and a bounded
 * dynamic part (certificates learned from signed requests; count and bytes bounded, oldest evicted).
 */
export interface CertificateCache {
  /** Adds a certificate (DER) to the dynamic part; a certificate already present is not added twice. */
  add(certificate: Buffer): void;
  /** Certificates whose subject Name DER equals `subjectDer`. */
  findBySubject(subjectDer: Buffer): readonly Buffer[];
  /** Certificates whose subjectKeyIdentifier equals `keyIdentifier`. */
  findBySubjectKeyId(keyIdentifier: Buffer): readonly Buffer[];
  /**
   * Certificates named by a requestorName GeneralName TLV (RFC 6960 §4.1.1); only directoryName
   * [4] can name a certificate's subject, other forms find nothing.
   */
  findByGeneralName(generalNameDer: Buffer): readonly Buffer[];
  /**
   * CA certificates (basicConstraints cA) whose subjectPublicKey hashes to `keyHash` with `algorithm`:
   * the candidate issuers of a CertID (RFC 6960 §4.1.1), for forwarding (SPEC step 6).
   */
  findByKeyHash(algorithm: HashAlgorithm, keyHash: Buffer): readonly Buffer[];
  /** The certificate with this issuer Name DER and serialNumber content octets (forwarding's `fromcert`). */
  findByIssuerAndSerial(issuerDer: Buffer, serialNumber: Buffer): readonly Buffer[];
  /** Counts, for logs and tests. */
  size(): { readonly persistent: number; readonly persistentBytes: number; readonly dynamic: number; readonly dynamicBytes: number };
}
