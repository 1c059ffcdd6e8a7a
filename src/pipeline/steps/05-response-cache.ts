import { isPromise } from "../../awaitable.ts";
import type { CertId, CertStatus, SingleResponse } from "../../ocsp/types.ts";
import { singleOf } from "../../responses/cached-single.ts";
import type { CachedResponse, ResponseCache } from "../../responses/response-cache.ts";
import type { StatusAnswer } from "../../status/status-source.ts";
import type { Exchange } from "../exchange.ts";
import type { ServedIssuer } from "../../issuers/issuer-directory.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 5: a request with no nonce and exactly one single request is answered with the cached
 * response for its CertID (the same CertID bytes: hash algorithm parameters included), its bytes
 * exactly as stored (no re-signing); billing still runs, and sees the cached answer. For an issuer
 * this responder serves, the issuer's revocation sources decide first: a cached response is served
 * only while they still say what it says (a cached `good` is never served once they know of a
 * revocation; a source that cannot answer now leaves the request to step 7, which says so). Anything
 * else, and a miss, goes on to the next step. Never throws: a cache tier that is down answers a miss.
 * A hit in process memory is answered synchronously when the sources answer at once.
 */
export function responseCacheStep(options: { readonly cache: ResponseCache }): Step {
  const { cache } = options;
  /** `issuer`: the request's served issuer (exchange.servedIssuers), `undefined` when not served. */
  const serve = (exchange: Exchange, certId: CertId, issuer: ServedIssuer | undefined, cached: CachedResponse): void | Promise<void> => {
    const single = singleOf(cached, certId);
    if (single === undefined) return;
    if (issuer === undefined) {
      answer(exchange, single, cached);
      return;
    }
    let current;
    try {
      current = issuer.source.status(certId, exchange.signal);
    } catch {
      return;
    }
    if (!isPromise(current)) {
      if (agrees(single.status, current)) answer(exchange, single, cached);
      return;
    }
    return current.then(
      (settled) => {
        if (agrees(single.status, settled)) answer(exchange, single, cached);
      },
      () => undefined,
    );
  };
  const lookUp = async (exchange: Exchange, certId: CertId, issuer: ServedIssuer | undefined): Promise<void> => {
    const cached = await cache.get(certId);
    if (cached !== undefined) await serve(exchange, certId, issuer, cached);
  };
  return {
    name: "response-cache",
    run(exchange) {
      const request = exchange.request!;
      if (request.nonce !== undefined || request.requests.length !== 1) return;
      const certId = request.requests[0]!.certId;
      const issuer = exchange.servedIssuers![0];
      const local = cache.peek?.(certId);
      if (local !== undefined) return serve(exchange, certId, issuer, local);
      return lookUp(exchange, certId, issuer);
    },
  };
}

/**
 * Whether a cached status is what the issuer's sources say now: good for good; revoked at the same
 * time for the same reason for revoked; not good for unknown and never-issued (either form the
 * non-issued policy gives). No answer (no data) agrees with nothing.
 */
function agrees(cached: CertStatus, current: StatusAnswer | undefined): boolean {
  switch (current?.kind) {
    case "good":
      return cached.kind === "good";
    case "revoked":
      return cached.kind === "revoked" && cached.revokedAt.getTime() === current.revokedAt.getTime() && cached.reason === current.reason;
    case "unknown":
      return cached.kind === "unknown";
    case "not-issued":
      return cached.kind !== "good";
    default:
      return false;
  }
}

function answer(exchange: Exchange, single: SingleResponse, cached: CachedResponse): void {
  exchange.answers = [single];
  exchange.response = { body: cached.body, producedAt: cached.producedAt, cacheWindow: { thisUpdate: cached.thisUpdate, nextUpdate: cached.nextUpdate, etag: cached.etag } };
  exchange.source = "cache";
}
