import { issuerHashes } from "../ocsp/cert-id.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";
import type { ResponderIdentity } from "../signing/responder-identity.ts";
import type { StatusSource } from "../status/status-source.ts";

/** One issuer a responder serves (SPEC §1 "Issuer"), with everything the hot path needs precomputed. */
export interface ServedIssuer {
  /** The CA's subject, for logs. */
  readonly name: string;
  readonly certificate: Buffer;
  readonly identity: ResponderIdentity;
  /** The issuer's revocation sources, composed (first answer, stale guard). */
  readonly source: StatusSource;
  /** Default nextUpdate − thisUpdate, in milliseconds. */
  readonly responseValidityMs: number;
  /** Closes its sources and releases its signer (a PKCS#11 token's sessions); at shutdown or when a reload retires it. */
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
  // Keyed by algorithm and key hash (hex); the name hash is compared after the map hit.
  const byKeyHash = new Map<string, { issuer: ServedIssuer; nameHash: Buffer }>();
  for (const issuer of issuers) {
    for (const [algorithm, hashes] of issuerHashes(issuer.certificate)) {
      byKeyHash.set(keyOf(algorithm, hashes.keyHash), { issuer, nameHash: hashes.nameHash });
    }
  }
  return {
    all: issuers,
    find: (id) => {
      const entry = byKeyHash.get(keyOf(id.hashAlgorithm, id.issuerKeyHash));
      return entry !== undefined && entry.nameHash.equals(id.issuerNameHash) ? entry.issuer : undefined;
    },
  };
}

function keyOf(algorithm: HashAlgorithm, keyHash: Buffer): string {
  return `${algorithm}:${keyHash.toString("hex")}`;
}
