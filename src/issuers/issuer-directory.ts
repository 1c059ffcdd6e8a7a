import { issuerMatcher } from "../ocsp/issuer-matcher.ts";
import type { CertId } from "../ocsp/types.ts";
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

/** Finds the served issuer of a CertID by its hash algorithm, issuer key hash and issuer name hash (ocsp/issuer-matcher.ts). */
export interface IssuerDirectory {
  /** The issuer, or `undefined` when this responder does not serve the CertID's issuer. */
  find(id: CertId): ServedIssuer | undefined;
  /** Every served issuer, in configuration order; the first one's signer signs answers for unknown issuers. */
  readonly all: readonly ServedIssuer[];
}

export function issuerDirectory(issuers: readonly ServedIssuer[]): IssuerDirectory {
  const matcher = issuerMatcher(issuers.map((issuer) => [issuer.certificate, issuer] as const));
  return { all: issuers, find: (id) => matcher.find(id) };
}
