import { issuerHashes } from "../ocsp/cert-id.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";
import type { ResponderIdentity } from "../signing/responder-identity.ts";
import type { SignerReadiness } from "../signing/signer-readiness.ts";
import type { SourceData } from "../status/source-data.ts";
import type { StatusSource } from "../status/status-source.ts";

/** One issuer a responder serves (SPEC §1 "Issuer"), with everything the hot path needs precomputed. */
export interface ServedIssuer {
  /** The CA's subject, for logs. */
  readonly name: string;
  readonly certificate: Buffer;
  readonly identity: ResponderIdentity;
  /** The issuer's revocation sources' answers, composed (first answer, stale guard, metered). */
  readonly source: StatusSource;
  /** What the issuer's revocation data offers beside its answers: freshness, the serials it lists. */
  readonly data: SourceData;
  /** Default nextUpdate − thisUpdate, in milliseconds. */
  readonly responseValidityMs: number;
  /**
   * The issuer's signers for readiness when not just `identity.signer`: those valid now (the same
   * keys, not metered as responses) with what is wrong or soon will be (signer rotation).
   */
  readonly signerReadiness?: (() => SignerReadiness) | undefined;
  /** Closes its sources (its `data`) and releases its signer (a PKCS#11 token's sessions); at shutdown or when a reload retires it. */
  close(): Promise<void>;
}

/** Finds the served issuer of a CertID by its hash algorithm, issuer key hash and issuer name hash. */
export interface IssuerDirectory {
  /** The issuer, or `undefined` when this responder does not serve the CertID's issuer. */
  find(id: CertId): ServedIssuer | undefined;
  /** Every served issuer, in configuration order; the first one's signer signs answers for unknown issuers. */
  readonly all: readonly ServedIssuer[];
}

export function issuerDirectory(issuers: readonly ServedIssuer[]): IssuerDirectory {
  // Bucketed by the key hash's first four octets, so that a lookup makes no string; the algorithm
  // and both whole hashes are compared within the bucket (one entry, unless hashes collide there).
  const buckets = new Map<number, Entry[]>();
  for (const issuer of issuers) {
    for (const [algorithm, hashes] of issuerHashes(issuer.certificate)) {
      const bucket = buckets.get(prefixOf(hashes.keyHash));
      const entry = { algorithm, keyHash: hashes.keyHash, nameHash: hashes.nameHash, issuer };
      if (bucket === undefined) buckets.set(prefixOf(hashes.keyHash), [entry]);
      else bucket.push(entry);
    }
  }
  return {
    all: issuers,
    find: (id) => {
      if (id.issuerKeyHash.length < 4) return undefined;
      const bucket = buckets.get(prefixOf(id.issuerKeyHash));
      if (bucket === undefined) return undefined;
      for (const entry of bucket) {
        if (entry.algorithm === id.hashAlgorithm && entry.keyHash.equals(id.issuerKeyHash) && entry.nameHash.equals(id.issuerNameHash)) return entry.issuer;
      }
      return undefined;
    },
  };
}

interface Entry {
  readonly algorithm: HashAlgorithm;
  readonly keyHash: Buffer;
  readonly nameHash: Buffer;
  readonly issuer: ServedIssuer;
}

/** The first four octets of a key hash (every digest here is at least 20 octets long). */
function prefixOf(keyHash: Buffer): number {
  return keyHash.readUInt32BE(0);
}
