/**
 * THE CertID → issuer matcher (RFC 6960 §4.1.1): which of some certificates issued the certificate a
 * CertID names, by the CertID's hash algorithm, issuer key hash and issuer name hash. The issuer
 * directory (the issuers a responder serves), a source's own issuer and the candidates a freshness
 * proof may come from all find issuers with it.
 */
import { issuerHashes } from "./cert-id.ts";
import type { CertId, HashAlgorithm } from "./types.ts";

/** Finds the value of the certificate that issued a CertID's certificate. */
export interface IssuerMatcher<T> {
  /** The value of the certificate whose name and key hash to the CertID's, or `undefined`. */
  find(id: CertId): T | undefined;
}

/**
 * A matcher over `entries` (certificate DER, what it stands for), in order: when two certificates
 * share a name and key, the first one's value is found. The hashes of every certificate are computed
 * here, once; throws as certificateFields does when a certificate cannot be read.
 */
export function issuerMatcher<T>(entries: Iterable<readonly [certificate: Buffer, value: T]>): IssuerMatcher<T> {
  // Bucketed by the key hash's first four octets, so that a lookup makes no string; the algorithm
  // and both whole hashes are compared within the bucket (one entry, unless hashes collide there).
  const buckets = new Map<number, Entry<T>[]>();
  for (const [certificate, value] of entries) {
    for (const [algorithm, hashes] of issuerHashes(certificate)) {
      const entry = { algorithm, keyHash: hashes.keyHash, nameHash: hashes.nameHash, value };
      const bucket = buckets.get(prefixOf(hashes.keyHash));
      if (bucket === undefined) buckets.set(prefixOf(hashes.keyHash), [entry]);
      else bucket.push(entry);
    }
  }
  return {
    find: (id) => {
      if (id.issuerKeyHash.length < 4) return undefined;
      const bucket = buckets.get(prefixOf(id.issuerKeyHash));
      if (bucket === undefined) return undefined;
      for (const entry of bucket) {
        if (entry.algorithm === id.hashAlgorithm && entry.keyHash.equals(id.issuerKeyHash) && entry.nameHash.equals(id.issuerNameHash)) return entry.value;
      }
      return undefined;
    },
  };
}

interface Entry<T> {
  readonly algorithm: HashAlgorithm;
  readonly keyHash: Buffer;
  readonly nameHash: Buffer;
  readonly value: T;
}

/** The first four octets of a key hash (every digest here is at least 20 octets long). */
function prefixOf(keyHash: Buffer): number {
  return keyHash.readUInt32BE(0);
}
