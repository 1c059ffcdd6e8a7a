import type { CertId } from "../ocsp/types.ts";

/**
 * The response-cache key of a CertID (SPEC §1): the whole CertID TLV as received, in hex. A response
 * echoes the request's CertID (RFC 6960 §4.2.1, SPEC §4), and stored bytes are served as they are, so
 * every encoding of one certificate's CertID is its own entry: hash algorithm (with or without NULL
 * parameters, RFC 5754 §2), issuer name hash, issuer key hash and the serial's octets exactly as sent.
 * Memory and Redis use the same key (Redis behind a configurable prefix).
 */
export function cacheKey(id: CertId): string {
  return id.der.toString("hex");
}
