/**
 * Whether a CertID names a source's issuer. The four CertID hashes of the issuer are computed
 * once, at construction; a lookup then compares two short Buffers.
 */
import { ConfigError } from "../errors.ts";
import type { IssuerHashes } from "../ocsp/cert-id.ts";
import { issuerHashes } from "../ocsp/cert-id.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";

/** Tests CertIDs against one issuer certificate. */
export interface IssuerMatch {
  /** True when both the name hash and the key hash for the CertID's algorithm are this issuer's. */
  matches(id: CertId): boolean;
}

/**
 * An IssuerMatch for the certificate `issuerDer`. Throws ConfigError(field, ...) when it is
 * not a DER certificate.
 */
export function issuerMatch(issuerDer: Buffer, field = "issuer"): IssuerMatch {
  let hashes: ReadonlyMap<HashAlgorithm, IssuerHashes>;
  try {
    hashes = issuerHashes(issuerDer);
  } catch (error) {
    throw new ConfigError(field, `not a DER certificate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return {
    matches(id: CertId): boolean {
      const expected = hashes.get(id.hashAlgorithm);
      return expected !== undefined && expected.keyHash.equals(id.issuerKeyHash) && expected.nameHash.equals(id.issuerNameHash);
    },
  };
}
