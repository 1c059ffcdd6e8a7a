import type { Clock } from "../../clock.ts";
import { ERROR_RESPONSES } from "../../ocsp/encode-response.ts";
import { matchesEtag } from "../cache-headers.ts";
import type { OcspErrorStatus } from "../../errors.ts";
import type { OcspReply } from "../exchange.ts";
import type { Step } from "../step.ts";

/** Error responses are a fixed set of bodies, sent again and again: their records are made once. */
const ERROR_REPLIES = new Map<OcspErrorStatus, OcspReply>(
  [...ERROR_RESPONSES].map(([status, body]) => [status, { body, cache: undefined, at: 0, notModified: false, reuseHead: true }]),
);

/** The reply for an OCSP error status: its precomputed unsigned OCSPResponse, no-cache. */
export function errorReply(status: OcspErrorStatus): OcspReply {
  return ERROR_REPLIES.get(status)!;
}

/**
 * SPEC step 10: what goes back. An error becomes its precomputed unsigned OCSPResponse (RFC 6960
 * §4.2.1), no-cache; a signed response keeps its cache window (SPEC §5) when it has one, and a GET
 * whose If-None-Match names its ETag is answered 304 Not Modified. A response served again (a cache
 * hit, a reused answer) says so: its HTTP head can be reused. http/ocsp-reply.ts turns the record
 * into status, headers and bytes.
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
        exchange.reply = { body, cache: undefined, at: 0, notModified: false, reuseHead: false };
        return;
      }
      const notModified = exchange.method === "GET" && exchange.ifNoneMatch !== undefined && matchesEtag(exchange.ifNoneMatch, cacheWindow.etag);
      exchange.reply = { body, cache: cacheWindow, at: options.clock.now(), notModified, reuseHead: exchange.source === "cache" };
    },
  };
}
