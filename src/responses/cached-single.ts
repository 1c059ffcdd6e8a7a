/**
 * The status and times inside a cached response, for the steps that need more than its bytes:
 * billing of a cache hit (SPEC step 9 counts and lists the answers) and local validation of cached
 * types (SPEC step 7, "response cache first"), which re-signs a cached answer inside a larger or
 * nonce-bearing response. Producers that know the answer register it beside the body; any other
 * body (a Redis hit, a forwarded or freshness-proof response) is decoded once and remembered.
 */
import { decodeOcspResponse } from "../ocsp/decode-response.ts";
import { id_ce_invalidityDate } from "../ocsp/oids.ts";
import type { CertId, SingleResponse } from "../ocsp/types.ts";
import type { CachedResponse } from "./response-cache.ts";

/** Keyed by the body Buffer itself: tiers hand out the Buffer they were given, so entries die with it. */
const known = new WeakMap<Buffer, SingleResponse | null>();

/** Records the single response that `body` carries (a producer that just encoded it). */
export function rememberSingle(body: Buffer, single: SingleResponse): void {
  known.set(body, single);
}

/**
 * The single response of `cached` when it is a successful response with exactly one single response
 * whose CertID is `id`'s, byte for byte (hash algorithm parameters and serial encoding included), else
 * `undefined` (a cache miss for the caller: never answer from a response that says something else,
 * or echoes another CertID). Never throws.
 */
export function singleOf(cached: CachedResponse, id: CertId): SingleResponse | undefined {
  let single = known.get(cached.body);
  if (single === undefined) {
    single = decodeSingle(cached.body);
    known.set(cached.body, single);
  }
  // The response must echo the request's CertID exactly (SPEC §4): another encoding is a miss.
  return single !== null && single.certIdDer.equals(id.der) ? single : undefined;
}

function decodeSingle(body: Buffer): SingleResponse | null {
  try {
    const decoded = decodeOcspResponse(body);
    if (decoded.status !== "successful" || decoded.basic.responses.length !== 1 || decoded.basic.nonce !== undefined) return null;
    const single = decoded.basic.responses[0]!;
    const certId = single.certId;
    return {
      certIdDer: certId.der,
      status: single.status,
      thisUpdate: single.thisUpdate,
      nextUpdate: single.nextUpdate,
      invalidityDate: single.invalidityDate,
      // The invalidity date is re-encoded from `invalidityDate`; keeping its extension too would double it.
      extensions: single.extensions.filter((extension) => extension.oid !== id_ce_invalidityDate),
    };
  } catch {
    return null;
  }
}
