import type { CertId, SingleResponse } from "../ocsp/types.ts";

/** A complete signed OCSPResponse kept for reuse (SPEC §1 "Response cache", §6). */
export interface CachedResponse {
  /** The whole OCSPResponse DER; served exactly as stored, never re-signed. */
  readonly body: Buffer;
  /** The single response's thisUpdate (HTTP Last-Modified, SPEC §5). */
  readonly thisUpdate: Date;
  /** The single response's nextUpdate (HTTP Expires, SPEC §5). */
  readonly nextUpdate: Date;
  /** The response's producedAt: breaks a tie of thisUpdate between two responses (responses/response-age.ts). */
  readonly producedAt: Date;
  /** Milliseconds since the epoch after which it is never served: min(nextUpdate, stored at + expiresAfter). */
  readonly expiresAt: number;
  /**
   * Its one single response (status and times, for steps 5, 7 and 9), as its producer gave it or read
   * once from the body when stored (cached-single.ts); `undefined` when the body is not a successful
   * response with exactly one single response and no nonce, which is then never served.
   */
  readonly single: SingleResponse | undefined;
  /** Its ETag (responses/response-etag.ts), computed once when stored. */
  readonly etag: string;
}

/** What a producer hands the cache; the cache decides whether and how long to keep it. */
export interface ResponseToCache {
  readonly body: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly producedAt: Date;
  /** The issuer's subject Name DER, matched against the per-issuer table (issuer DN pattern → expiresAfter). */
  readonly issuerNameDer: Buffer;
  /** Its single response, when the producer has it (it just encoded it): the cache then does not decode the body. */
  readonly single?: SingleResponse | undefined;
  /** Its ETag, when the producer computed it already: the cache then does not hash the body. */
  readonly etag?: string | undefined;
}

/**
 * The response cache (SPEC §6), keyed by CertID including its hash algorithm. Only responses without
 * a nonce and with exactly one single response belong here; producers must not offer others.
 * Tiers (memory, Redis) sit behind this one interface and are composed as layers.
 */
export interface ResponseCache {
  /**
   * The stored response for `id` while it is live, else `undefined`. A tier that is down or slow
   * answers `undefined` (and logs); it never rejects.
   */
  get(id: CertId): Promise<CachedResponse | undefined>;
  /**
   * What `get` would answer from process memory alone, synchronously; `undefined` also when only a
   * remote tier might hold it. Lets a memory hit skip a promise on the hot path (SPEC step 5).
   */
  peek?(id: CertId): CachedResponse | undefined;
  /**
   * Keeps `response` for `id` when its issuer matches a row of the per-issuer table; otherwise does
   * nothing. Newer never loses to older: a live response already held whose thisUpdate (then
   * producedAt) is newer stays, and `response` is dropped. Never rejects: a tier outage is logged
   * and the write is dropped.
   */
  put(id: CertId, response: ResponseToCache): Promise<void>;
  /** Closes connections and timers. */
  close(): Promise<void>;
}
