import type { CertId } from "../../ocsp/types.ts";
import { singleOf } from "../../responses/cached-single.ts";
import type { CachedResponse, ResponseCache } from "../../responses/response-cache.ts";
import type { Exchange } from "../exchange.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 5: a request with no nonce and exactly one single request is answered with the cached
 * response for its CertID, its bytes exactly as stored (no re-signing); billing still runs, and sees
 * the cached answer. Anything else, and a miss, goes on to the next step. Never throws: a cache tier
 * that is down answers a miss. A hit in process memory is answered synchronously.
 */
export function responseCacheStep(options: { readonly cache: ResponseCache }): Step {
  const { cache } = options;
  const lookUp = async (exchange: Exchange, certId: CertId): Promise<void> => {
    const cached = await cache.get(certId);
    if (cached !== undefined) answer(exchange, certId, cached);
  };
  return {
    name: "response-cache",
    run(exchange) {
      const request = exchange.request!;
      if (request.nonce !== undefined || request.requests.length !== 1) return;
      const certId = request.requests[0]!.certId;
      const local = cache.peek?.(certId);
      if (local !== undefined) {
        answer(exchange, certId, local);
        return;
      }
      return lookUp(exchange, certId);
    },
  };
}

function answer(exchange: Exchange, certId: CertId, cached: CachedResponse): void {
  const single = singleOf(cached, certId);
  if (single === undefined) return;
  exchange.answers = [single];
  exchange.response = { body: cached.body, cacheWindow: { thisUpdate: cached.thisUpdate, nextUpdate: cached.nextUpdate } };
  exchange.source = "cache";
}
