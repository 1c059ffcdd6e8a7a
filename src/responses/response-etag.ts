import { createHash } from "node:crypto";

/**
 * The ETag of an OCSPResponse's bytes (RFC 5019 §6.2, SPEC §5): the quoted hex SHA-256 of the body.
 * Computed once per response, where it is made or stored, and carried on its record from then on
 * (SignedResponse.cacheWindow.etag, CachedResponse.etag): a reply never hashes bytes it has seen.
 */
export function responseEtag(body: Buffer): string {
  return `"${createHash("sha256").update(body).digest("hex")}"`;
}
