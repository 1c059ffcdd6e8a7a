import { singleOf } from "../../responses/cached-single.ts";
import type { ResponseCache } from "../../responses/response-cache.ts";
import type { SingleResponse } from "../../ocsp/types.ts";
import type { Step } from "../step.ts";
import { answerLocally, isNonIssuedRevocation, type LocalValidationOptions } from "./07-local-validation.ts";

export interface CacheFirstOptions extends LocalValidationOptions {
  readonly cache: ResponseCache;
  /**
   * True when step 5 runs before this step (it does for both cached types): a request step 5 could
   * answer (no nonce, one single request) was looked up there just now, so it is not looked up again
   * (a second round trip to a slow shared tier).
   */
  readonly afterResponseCacheStep: boolean;
}

/**
 * SPEC step 7 for the cached types ("response cache first"): the issuer's own sources are
 * authoritative, so a single request for an issuer this responder serves is answered by its
 * revocation sources, as in `localValidationStep` (which the basic types keep, without any cache
 * lookup), never from a cached response; one for another issuer takes the status and times of a
 * cached response for its CertID (a forwarded one) when there is one, else `unknown`.
 * `exchange.source` is "cache" when every answer came from the cache, else "local". Throws
 * TryLaterError when a served issuer has no usable data.
 */
export function cacheFirstLocalValidationStep(options: CacheFirstOptions): Step {
  const { issuers, clock, cache, afterResponseCacheStep } = options;
  return {
    name: "local-validation",
    async run(exchange) {
      const request = exchange.request!;
      const requests = request.requests;
      const lookUp = !(afterResponseCacheStep && request.nonce === undefined && requests.length === 1);
      const now = clock.now();
      const answers: SingleResponse[] = new Array<SingleResponse>(requests.length);
      const served = exchange.servedIssuers!;
      let fromCache = 0;
      for (let index = 0; index < requests.length; index++) {
        const certId = requests[index]!.certId;
        const issuer = served[index];
        const cached = lookUp && issuer === undefined ? await cache.get(certId) : undefined;
        const hit = cached === undefined ? undefined : singleOf(cached, certId);
        if (hit !== undefined) {
          // A cached answer for a non-issued certificate in the revoked form keeps its extended-revoke marker (RFC 6960 §2.2).
          if (isNonIssuedRevocation(hit.status)) exchange.extendedRevoke = true;
          answers[index] = { ...hit, certIdDer: certId.der };
          fromCache++;
          continue;
        }
        answers[index] = await answerLocally(certId, issuer, now, exchange, options.nonIssued);
      }
      exchange.identity ??= issuers.all[0]!.identity;
      exchange.answers = answers;
      exchange.source = fromCache === requests.length ? "cache" : "local";
    },
  };
}
