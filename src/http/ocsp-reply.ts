/**
 * The one place where what step 10 decided for an OCSP exchange (pipeline/exchange.ts OcspReply)
 * becomes HTTP: status, the SPEC §5 cache headers, content-length, and whether the head is shared.
 */
import { NO_CACHE, cacheHeaders } from "../pipeline/cache-headers.ts";
import type { CacheWindow, OcspReply } from "../pipeline/exchange.ts";
import { sharedReply, type Reply } from "./reply.ts";

const CONTENT_TYPE = "application/ocsp-response";
const EMPTY = Buffer.alloc(0);

/**
 * The no-cache reply of each body length seen lately (a nonce makes every answer fresh, but their
 * lengths repeat; error responses are a fixed set): its headers and head are shared by every reply
 * of that length. Emptied when full, so that odd lengths cannot make it grow without bound.
 */
const noCacheByLength = new Map<number, Reply>();
const MAX_NO_CACHE_LENGTHS = 1024;

function noCacheReply(body: Buffer): Reply {
  let shared = noCacheByLength.get(body.length);
  if (shared === undefined) {
    if (noCacheByLength.size >= MAX_NO_CACHE_LENGTHS) noCacheByLength.clear();
    shared = sharedReply(200, { "content-type": CONTENT_TYPE, "cache-control": NO_CACHE, "content-length": String(body.length) }, body);
    noCacheByLength.set(body.length, shared);
  }
  return withBody(shared, body);
}

/**
 * The 200 replies of responses sent again and again (cache hits, reused answers), by ETag, for one
 * second: max-age counts down each second, so their headers are formatted and their head encoded
 * once per response and second. Emptied when the second changes: it holds only what went out within
 * one second.
 */
const reusedThisSecond = new Map<string, Reply>();
let reusedSecond = -1;

function reusedReply(body: Buffer, window: CacheWindow, at: number): Reply {
  const second = Math.floor(at / 1000);
  if (second !== reusedSecond) {
    reusedThisSecond.clear();
    reusedSecond = second;
  }
  let shared = reusedThisSecond.get(window.etag);
  if (shared === undefined) {
    shared = sharedReply(200, okHeaders(body, window, at), body);
    reusedThisSecond.set(window.etag, shared);
  }
  return withBody(shared, body);
}

/** `shared` itself when it carries these very bytes, else the same status, headers and head with `body`. */
function withBody(shared: Reply, body: Buffer): Reply {
  return shared.body === body ? shared : { statusCode: shared.statusCode, headers: shared.headers, body, sharedHead: shared.sharedHead };
}

function okHeaders(body: Buffer, window: CacheWindow, at: number): Readonly<Record<string, string>> {
  return { "content-type": CONTENT_TYPE, ...cacheHeaders(window.etag, window.thisUpdate, window.nextUpdate, at), "content-length": String(body.length) };
}

/**
 * The HTTP reply for `reply` (SPEC §5): HTTP 200 with application/ocsp-response; no-cache without a
 * cache window (error responses, nonces, non-authoritative answers); with one, the cache headers as
 * of `reply.at`, or 304 without the body when the client's If-None-Match named the ETag. Every
 * reply's headers include its content-length.
 */
export function httpReply(reply: OcspReply): Reply {
  const window = reply.cache;
  if (window === undefined) return noCacheReply(reply.body);
  if (reply.notModified) {
    return { statusCode: 304, headers: { ...cacheHeaders(window.etag, window.thisUpdate, window.nextUpdate, reply.at), "content-length": "0" }, body: EMPTY, sharedHead: undefined };
  }
  if (reply.reuseHead) return reusedReply(reply.body, window, reply.at);
  return { statusCode: 200, headers: okHeaders(reply.body, window, reply.at), body: reply.body, sharedHead: undefined };
}
