/**
 * HTTP caching of OCSP responses (SPEC §5, RFC 5019 §6 / RFC 9919). Only authoritative responses
 * without a nonce may be cached; everything else says so explicitly.
 */

export const NO_CACHE = "no-cache, no-store, max-age=0";

/** Headers for a cacheable response valid from `thisUpdate` to `nextUpdate`, as seen at `now`. */
export function cacheHeaders(etag: string, thisUpdate: Date, nextUpdate: Date, now: number): Record<string, string> {
  const maxAge = Math.max(0, Math.floor((nextUpdate.getTime() - now) / 1000));
  return {
    "cache-control": `max-age=${maxAge}, public, no-transform, must-revalidate`,
    etag,
    "last-modified": thisUpdate.toUTCString(),
    expires: nextUpdate.toUTCString(),
  };
}

/** True when an If-None-Match header value names `etag` (or is `*`); weak validators compare weakly. */
export function matchesEtag(ifNoneMatch: string, etag: string): boolean {
  for (const candidate of ifNoneMatch.split(",")) {
    const tag = candidate.trim().replace(/^W\//, "");
    if (tag === "*" || tag === etag) return true;
  }
  return false;
}
