/**
 * The status and times inside a cached response, for the steps that need more than its bytes:
 * billing of a cache hit (SPEC step 9 counts and lists the answers) and local validation of cached
 * types (SPEC step 7, "response cache first"), which re-signs a cached answer inside a larger or
 * nonce-bearing response. A cached response carries its single response (CachedResponse.single):
 * the one its producer encoded, or, for any other body (a Redis hit, a forwarded or freshness-proof
 * response), the one read from the body once, when the tier made the record (`cachedResponse`).
 */
import { decodeOcspResponse } from "../ocsp/decode-response.ts";
import { id_ce_invalidityDate } from "../ocsp/oids.ts";
import type { CertId, SingleResponse } from "../ocsp/types.ts";
import type { CachedResponse } from "./response-cache.ts";
import { responseEtag } from "./response-etag.ts";

/** What a tier keeps of a response beside the record's derived data. */
export type StoredFields = Omit<CachedResponse, "single" | "etag">;

/**
 * The record a tier hands out for `stored`: with the single response and ETag its producer gave
 * (`known`), else read from the body and hashed here, once per record.
 */
export function cachedResponse(stored: StoredFields, known: { readonly single?: SingleResponse | undefined; readonly etag?: string | undefined } = {}): CachedResponse {
  return { ...stored, single: known.single ?? decodeSingle(stored.body), etag: known.etag ?? responseEtag(stored.body) };
}

/**
 * The single response of `cached` when it is a successful response with exactly one single response
 * whose CertID is `id`'s, byte for byte (hash algorithm parameters and serial encoding included), else
 * `undefined` (a cache miss for the caller: never answer from a response that says something else,
 * or echoes another CertID). Never throws.
 */
export function singleOf(cached: CachedResponse, id: CertId): SingleResponse | undefined {
  const single = cached.single;
  // The response must echo the request's CertID exactly (SPEC §4): another encoding is a miss.
  return single !== undefined && single.certIdDer.equals(id.der) ? single : undefined;
}

function decodeSingle(body: Buffer): SingleResponse | undefined {
  try {
    const decoded = decodeOcspResponse(body);
    if (decoded.status !== "successful" || decoded.basic.responses.length !== 1 || decoded.basic.nonce !== undefined) return undefined;
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
    return undefined;
  }
}
