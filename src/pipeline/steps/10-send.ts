import { createHash } from "node:crypto";
import type { Clock } from "../../clock.ts";
import { ERROR_RESPONSES } from "../../ocsp/encode-response.ts";
import { NO_CACHE, cacheHeaders, matchesEtag } from "../cache-headers.ts";
import type { OcspErrorStatus } from "../../errors.ts";
import type { Reply } from "../exchange.ts";
import type { Step } from "../step.ts";

const CONTENT_TYPE = "application/ocsp-response";
const EMPTY = Buffer.alloc(0);
const ERROR_HEADERS = { "content-type": CONTENT_TYPE, "cache-control": NO_CACHE } as const;

/** RFC 5019 §6.2 / SPEC §5: the ETag is the hex SHA-256 of the body. */
function etagOf(body: Buffer): string {
  return `"${createHash("sha256").update(body).digest("hex")}"`;
}

const etags = new WeakMap<Buffer, string>();

function cachedEtag(body: Buffer): string {
  let etag = etags.get(body);
  if (etag === undefined) {
    etag = etagOf(body);
    etags.set(body, etag);
  }
  return etag;
}

/** The reply for an OCSP error status: its precomputed unsigned OCSPResponse, HTTP 200, no-cache. */
export function errorReply(status: OcspErrorStatus): Reply {
  return { statusCode: 200, headers: ERROR_HEADERS, body: ERROR_RESPONSES.get(status)! };
}

/**
 * SPEC step 10: the one place where an outcome becomes wire bytes. An error becomes its precomputed
 * unsigned OCSPResponse (RFC 6960 §4.2.1) with HTTP 200 and no-cache; a signed response gets the
 * SPEC §5 cache headers when cacheable, and a GET whose If-None-Match names its ETag gets 304.
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
        exchange.reply = { statusCode: 200, headers: { "content-type": CONTENT_TYPE, "cache-control": NO_CACHE }, body };
        return;
      }
      // A cache hit sends the very Buffer the cache stored, again and again: its ETag is hashed once.
      const etag = exchange.source === "cache" ? cachedEtag(body) : etagOf(body);
      const headers = cacheHeaders(etag, cacheWindow.thisUpdate, cacheWindow.nextUpdate, options.clock.now());
      if (exchange.method === "GET" && exchange.ifNoneMatch !== undefined && matchesEtag(exchange.ifNoneMatch, etag)) {
        exchange.reply = { statusCode: 304, headers, body: EMPTY };
        return;
      }
      exchange.reply = { statusCode: 200, headers: { "content-type": CONTENT_TYPE, ...headers }, body };
    },
  };
}
