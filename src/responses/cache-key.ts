import type { CertId } from "../ocsp/types.ts";

/**
 * The response-cache key of a CertID (SPEC §1): hash algorithm, issuer name hash, issuer key hash
 * and serial, in that order. The serial is the INTEGER's content octets exactly as received, so a
 * stored response (which echoes its CertID) is only served for the very serial encoding it answers.
 * Memory and Redis use the same key (Redis behind a configurable prefix).
 */
export function cacheKey(id: CertId): string {
  return `${id.hashAlgorithm}:${id.issuerNameHash.toString("hex")}:${id.issuerKeyHash.toString("hex")}:${id.serialNumber.toString("hex")}`;
}
