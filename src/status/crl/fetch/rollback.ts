/**
 * Rollback protection for fetched CRLs: a CA's site (or whoever sits in front of it) must not be
 * able to put an older CRL back and so make a revoked certificate good again. The CRL held is the
 * reference: an offered CRL with a lower cRLNumber, an older thisUpdate, or the same number (or,
 * without numbers, the same thisUpdate) with different content is refused.
 */

/** What the check needs of a CRL. */
export interface CrlVersion {
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: number;
  /** SHA-256 of the bytes as fetched (hex). */
  readonly sha256: string;
}

/** Why `offered` may not replace `held`, or `undefined` when it may (or is the same CRL: check sha256 first). */
export function rollbackProblem(held: CrlVersion | undefined, offered: CrlVersion): string | undefined {
  if (held === undefined || held.sha256 === offered.sha256) return undefined;
  if (held.crlNumber !== undefined && offered.crlNumber !== undefined) {
    if (offered.crlNumber < held.crlNumber) return `cRLNumber ${offered.crlNumber} is lower than the held CRL's ${held.crlNumber}`;
    if (offered.crlNumber === held.crlNumber) return `cRLNumber ${offered.crlNumber} is the held CRL's, with different content`;
  }
  if (offered.thisUpdate < held.thisUpdate) {
    return `thisUpdate ${new Date(offered.thisUpdate).toISOString()} is older than the held CRL's ${new Date(held.thisUpdate).toISOString()}`;
  }
  if (offered.thisUpdate === held.thisUpdate && (held.crlNumber === undefined || offered.crlNumber === undefined)) {
    return `thisUpdate ${new Date(offered.thisUpdate).toISOString()} is the held CRL's, with different content`;
  }
  return undefined;
}
