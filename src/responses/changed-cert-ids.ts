/**
 * Which cached CertIDs a change event (status/change-events.ts) makes wrong. A cache keys a response
 * by the CertID exactly as the client sent it (cache-key.ts), so one certificate has an entry per
 * hash algorithm and per encoding of the hash AlgorithmIdentifier; a change names the issuer (its
 * hashes under every algorithm) and the serial, and every one of those entries must go.
 */
import type { ChangedIssuer } from "../status/change-events.ts";
import { DER_NULL, integer, octetString, oid, sequence } from "../ocsp/der-writer.ts";
import { HASH_ALGORITHM_OIDS } from "../ocsp/hash-algorithms.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";
import type { IssuerHashes } from "../ocsp/cert-id.ts";
import { minimalSerial } from "../ocsp/minimal-serial.ts";

/** What a cache needs of the changed issuer: its CertID hashes under every algorithm. */
export type IssuerOfChange = Pick<ChangedIssuer, "hashes">;

/** The key under which a cache groups every encoding of one serial: its minimal content octets, in hex. */
export function serialKey(serial: Buffer): string {
  return minimalSerial(serial).toString("hex");
}

/** Whether `id` names a certificate of `issuer` (its name and key hashes under the CertID's own algorithm). */
export function isOfIssuer(id: CertId, issuer: IssuerOfChange): boolean {
  const hashes = issuer.hashes.get(id.hashAlgorithm);
  return hashes !== undefined && hashes.keyHash.equals(id.issuerKeyHash) && hashes.nameHash.equals(id.issuerNameHash);
}

/**
 * Every CertID DER a client may send for `serial` of `issuer` and a cache may hold: each hash
 * algorithm, with NULL parameters (as OpenSSL and most clients send) and without (RFC 5754 §2), the
 * serial in its minimal encoding (the only one DER allows).
 */
export function certIdEncodings(issuer: IssuerOfChange, serial: Buffer): Buffer[] {
  const minimal = minimalSerial(serial);
  const encodings: Buffer[] = [];
  for (const [algorithm, hashes] of issuer.hashes) {
    const tail = [octetString(hashes.nameHash), octetString(hashes.keyHash), integer(minimal)];
    encodings.push(sequence(sequence(oid(HASH_ALGORITHM_OIDS[algorithm]), DER_NULL), ...tail));
    encodings.push(sequence(sequence(oid(HASH_ALGORITHM_OIDS[algorithm])), ...tail));
  }
  return encodings;
}

/** The CertID a client builds (hash AlgorithmIdentifier with NULL parameters, as OpenSSL sends), for the minimal `serial`. */
export function clientCertId(algorithm: HashAlgorithm, hashes: IssuerHashes, serial: Buffer): CertId {
  return {
    hashAlgorithm: algorithm,
    issuerNameHash: hashes.nameHash,
    issuerKeyHash: hashes.keyHash,
    serialNumber: serial,
    der: sequence(sequence(oid(HASH_ALGORITHM_OIDS[algorithm]), DER_NULL), octetString(hashes.nameHash), octetString(hashes.keyHash), integer(serial)),
  };
}
