import { singleOf } from "../../responses/cached-single.ts";
import type { ResponseCache } from "../../responses/response-cache.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 5: a request with no nonce and exactly one single request is answered with the cached
 * response for its CertID, its bytes exactly as stored (no re-signing); billing still runs, and sees
 * the cached answer. Anything else, and a miss, goes on to the next step. Never throws: a cache tier
 * that is down answers a miss.
 */
export function responseCacheStep(options: { readonly cache: ResponseCache }): Step {
  const { cache } = options;
  return {
    name: "response-cache",
    async run(exchange) {
      const request = exchange.request!;
      if (request.nonce !== undefined || request.requests.length !== 1) return;
      const certId = request.requests[0]!.certId;
      const cached = await cache.get(certId);
      if (cached === undefined) return;
      const single = singleOf(cached, certId);
      if (single === undefined) return;
      exchange.answers = [single];
      exchange.response = { body: cached.body, cacheWindow: { thisUpdate: cached.thisUpdate, nextUpdate: cached.nextUpdate } };
      exchange.source = "cache";
    },
  };
}
