import type { Clock } from "../../clock.ts";
import { ERROR_RESPONSES } from "../../ocsp/encode-response.ts";
import { NO_CACHE, cacheHeaders, matchesEtag } from "../cache-headers.ts";
import type { OcspErrorStatus } from "../../errors.ts";
import { sharedHeaders, type Reply, type SignedResponse } from "../exchange.ts";
import type { Step } from "../step.ts";

const CONTENT_TYPE = "application/ocsp-response";
const EMPTY = Buffer.alloc(0);

/**
 * The no-cache headers of each body length seen lately, shared by every reply of that length (a
 * nonce makes every answer fresh, but their lengths repeat): the HTTP layer encodes them once a
 * second. Emptied when full, so that odd lengths cannot make it grow without bound.
 */
const noCacheHeaders = new Map<number, Readonly<Record<string, string>>>();
const MAX_NO_CACHE_LENGTHS = 1024;

/** An OCSPResponse no cache may keep: error responses, and answers without a validity window. */
function noCacheReply(body: Buffer): Reply {
  let headers = noCacheHeaders.get(body.length);
  if (headers === undefined) {
    if (noCacheHeaders.size >= MAX_NO_CACHE_LENGTHS) noCacheHeaders.clear();
    headers = sharedHeaders({ "content-type": CONTENT_TYPE, "cache-control": NO_CACHE, "content-length": String(body.length) });
    noCacheHeaders.set(body.length, headers);
  }
  return { statusCode: 200, headers, body };
}

/** Error responses are a fixed set of bodies: their replies are built once. */
const ERROR_REPLIES = new Map<OcspErrorStatus, Reply>([...ERROR_RESPONSES].map(([status, body]) => [status, noCacheReply(body)]));

/** The reply for an OCSP error status: its precomputed unsigned OCSPResponse, HTTP 200, no-cache. */
export function errorReply(status: OcspErrorStatus): Reply {
  return ERROR_REPLIES.get(status)!;
}

/**
 * The 200 headers of a cache hit, kept beside the very Buffer the cache hands out again and again:
 * the dates are formatted once per stored response, and the whole set is rebuilt only when the
 * second (hence max-age) changes.
 */
interface HitHeaders {
  second: number;
  headers: Readonly<Record<string, string>>;
}
const hitHeaders = new WeakMap<Buffer, HitHeaders>();

function okHeaders(body: Buffer, window: CacheWindow, now: number): Readonly<Record<string, string>> {
  return { "content-type": CONTENT_TYPE, ...cacheHeaders(window.etag, window.thisUpdate, window.nextUpdate, now), "content-length": String(body.length) };
}

function cacheHitHeaders(body: Buffer, window: CacheWindow, now: number): Readonly<Record<string, string>> {
  const second = Math.floor(now / 1000);
  let hit = hitHeaders.get(body);
  if (hit === undefined) {
    hit = { second, headers: sharedHeaders(okHeaders(body, window, now)) };
    hitHeaders.set(body, hit);
  } else if (hit.second !== second) {
    hit.second = second;
    hit.headers = sharedHeaders(okHeaders(body, window, now));
  }
  return hit.headers;
}

type CacheWindow = NonNullable<SignedResponse["cacheWindow"]>;

/**
 * SPEC step 10: the one place where an outcome becomes wire bytes. An error becomes its precomputed
 * unsigned OCSPResponse (RFC 6960 §4.2.1) with HTTP 200 and no-cache; a signed response gets the
 * SPEC §5 cache headers when cacheable, and a GET whose If-None-Match names its ETag gets 304.
 * Every reply's headers include its content-length.
 */
export function sendStep(options: { readonly clock: Clock }): Step {
  return {
    name: "send",
    run(exchange) {
      if (exchange.error !== undefined || exchange.response === undefined) {
        exchange.reply = errorReply(exchange.error?.status ?? "internalError");
        return;
      }
      const { body, cacheWindow } = exchange.response;
      if (cacheWindow === undefined) {
        exchange.reply = noCacheReply(body);
        return;
      }
      const now = options.clock.now();
      const etag = cacheWindow.etag;
      const headers = exchange.source === "cache" ? cacheHitHeaders(body, cacheWindow, now) : okHeaders(body, cacheWindow, now);
      if (exchange.method === "GET" && exchange.ifNoneMatch !== undefined && matchesEtag(exchange.ifNoneMatch, etag)) {
        exchange.reply = { statusCode: 304, headers: { ...cacheHeaders(etag, cacheWindow.thisUpdate, cacheWindow.nextUpdate, now), "content-length": "0" }, body: EMPTY };
        return;
      }
      exchange.reply = { statusCode: 200, headers, body };
    },
  };
}
