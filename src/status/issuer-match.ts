/**
 * Whether a CertID names a source's issuer: the one matcher (ocsp/issuer-matcher.ts) over the
 * source's issuer certificate, with the source's wording of a certificate it cannot read.
 */
import { ConfigError } from "../errors.ts";
import { issuerMatcher } from "../ocsp/issuer-matcher.ts";
import type { CertId } from "../ocsp/types.ts";

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
  try {
    const matcher = issuerMatcher([[issuerDer, true]]);
    return { matches: (id) => matcher.find(id) === true };
  } catch (error) {
    throw new ConfigError(field, `not a DER certificate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
