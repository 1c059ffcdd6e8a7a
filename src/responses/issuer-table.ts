import { ConfigError } from "../errors.ts";
import { nameMatcher, type NameMatcher } from "../trust/name-match.ts";
import type { HashAlgorithm } from "../ocsp/types.ts";

/** One row of the per-issuer table (SPEC §6), durations in milliseconds. */
export interface IssuerRowConfig {
  /** DN pattern (SPEC §1) matched against the issuer's subject Name. */
  readonly issuer: string;
  /** A stored response lives at most this long (and never past its nextUpdate). */
  readonly expiresAfter: number;
  /** Refresh a response this long before it expires (SPEC §6 "Renewing"). */
  readonly renew?: { readonly margin: number } | undefined;
  /** Sign responses for every certificate the issuer's sources know, in the background. */
  readonly preProduce?: { readonly hashAlgorithms: readonly HashAlgorithm[] } | undefined;
}

/** A compiled row. */
export interface IssuerRow extends IssuerRowConfig {
  /** Position in the table (for logs). */
  readonly index: number;
}

/** The per-issuer table: which issuers are cached, how long, and which are renewed. */
export interface IssuerTable {
  /** The first row whose pattern matches the issuer's subject Name DER, or `undefined` (not cached). */
  rowFor(issuerNameDer: Buffer): IssuerRow | undefined;
  /** Every row, in configuration order. */
  readonly rows: readonly IssuerRow[];
}

/** Remembered matches; issuer names come from configuration, forwarded and proof responses, so bounded. */
const MAX_REMEMBERED = 1024;

/**
 * Compiles the table. Throws ConfigError naming `${field}[i].issuer` for a pattern that is not an
 * RFC 4514 DN pattern, `${field}[i].expiresAfter` for a non-positive duration, and
 * `${field}[i].renew.margin` for a margin that is not shorter than expiresAfter.
 */
export function issuerTable(rows: readonly IssuerRowConfig[], field: string): IssuerTable {
  const compiled: { row: IssuerRow; matcher: NameMatcher }[] = rows.map((row, index) => {
    const at = `${field}[${index}]`;
    if (!(row.expiresAfter > 0)) throw new ConfigError(`${at}.expiresAfter`, "must be a positive duration");
    if (row.renew !== undefined && !(row.renew.margin > 0 && row.renew.margin < row.expiresAfter)) {
      throw new ConfigError(`${at}.renew.margin`, "must be a positive duration shorter than expiresAfter");
    }
    return { row: { ...row, index }, matcher: matcherOf(row.issuer, `${at}.issuer`) };
  });
  const remembered = new Map<string, IssuerRow | null>();
  return {
    rows: compiled.map((entry) => entry.row),
    rowFor(issuerNameDer) {
      const key = issuerNameDer.toString("latin1");
      const known = remembered.get(key);
      if (known !== undefined) return known ?? undefined;
      const row = compiled.find((entry) => entry.matcher.matches(issuerNameDer))?.row;
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      remembered.set(key, row ?? null);
      return row;
    },
  };
}

/** One pattern's matcher; its errors name `field` itself (nameMatcher would add `[0]`). */
function matcherOf(pattern: string, field: string): NameMatcher {
  try {
    return nameMatcher([pattern], field);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(field, error.message, { cause: error.cause });
    throw error;
  }
}
