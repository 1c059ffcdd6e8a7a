/**
 * CertID hashes (RFC 6960 §4.1.1): what a client computes from the issuer certificate,
 * and therefore what Vouch precomputes for each issuer it serves, per hash algorithm.
 */
import { createHash } from "node:crypto";
import { certificateFields } from "./certificate-fields.ts";
import { DER_NULL, integer, octetString, oid, sequence } from "./der-writer.ts";
import { HASH_ALGORITHM_OIDS } from "./hash-algorithms.ts";
import type { HashAlgorithm } from "./types.ts";
import { HASH_ALGORITHMS } from "./types.ts";

/** The two issuer hashes of a CertID. */
export interface IssuerHashes {
  /** Hash of the DER of the issuer's subject Name. */
  readonly nameHash: Buffer;
  /** Hash of the issuer's subjectPublicKey BIT STRING value (no tag, length or unused-bits octet). */
  readonly keyHash: Buffer;
}

/**
 * The issuer hashes for every supported algorithm, from the issuer's certificate DER.
 * Throws CertificateFormatError if it is not a certificate.
 */
export function issuerHashes(certificateDer: Buffer): ReadonlyMap<HashAlgorithm, IssuerHashes> {
  const { subjectDer, subjectPublicKey } = certificateFields(certificateDer);
  const hashes = new Map<HashAlgorithm, IssuerHashes>();
  for (const algorithm of HASH_ALGORITHMS) {
    hashes.set(algorithm, {
      nameHash: createHash(algorithm).update(subjectDer).digest(),
      keyHash: createHash(algorithm).update(subjectPublicKey).digest(),
    });
  }
  return hashes;
}

/**
 * A CertID TLV as OpenSSL builds it (hash AlgorithmIdentifier with NULL parameters), for
 * tests and clients. `serial` is the serial INTEGER's content octets, which must be minimal.
 */
export function encodeCertId(hash: HashAlgorithm, issuerCertDer: Buffer, serial: Buffer): Buffer {
  const { subjectDer, subjectPublicKey } = certificateFields(issuerCertDer);
  return sequence(
    sequence(oid(HASH_ALGORITHM_OIDS[hash]), DER_NULL),
    octetString(createHash(hash).update(subjectDer).digest()),
    octetString(createHash(hash).update(subjectPublicKey).digest()),
    integer(serial),
  );
}
