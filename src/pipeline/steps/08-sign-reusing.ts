import type { Clock } from "../../clock.ts";
import type { ReuseTable } from "../../responses/reuse-table.ts";
import type { Exchange, SignedResponse } from "../exchange.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 8 with reuse (issue 14 item 4, `reuseFor`): a request without a nonce for one
 * certificate, answered by local validation, gets the response signed for its CertID in the last
 * `reuseFor` when that response still says what local validation just said (reuse-table.ts);
 * otherwise `sign` runs (for the cached types: signing and storing), and what it signed is kept.
 * Nonce requests, requests for several certificates, requests naming preferred signature
 * algorithms and non-authoritative answers always go to `sign`.
 */
export function reusingSignStep(sign: Step, options: { readonly table: ReuseTable<SignedResponse>; readonly clock: Clock }): Step {
  const { table, clock } = options;
  /** The signer `sign` picks now for a request without preferences (its choice is a new object per call; the identity is not). */
  const signerNow = (exchange: Exchange, now: number): object | undefined => exchange.identity?.choose([], now)?.identity;
  const keep = (exchange: Exchange): void => {
    const response = exchange.response;
    if (response?.cacheWindow === undefined || response.forThisClient === true) return;
    const now = clock.now();
    const signer = signerNow(exchange, now);
    if (signer !== undefined) table.keep(exchange.request!.requests[0]!.certId, { response, answer: exchange.answers![0]!, signer }, now);
  };
  return {
    name: sign.name,
    run(exchange) {
      const request = exchange.request!;
      if (exchange.response !== undefined || request.nonce !== undefined || request.requests.length !== 1 || request.preferredSignatureAlgorithms.length > 0 || exchange.nonAuthoritative || exchange.source !== "local") {
        return sign.run(exchange);
      }
      const certId = request.requests[0]!.certId;
      const now = clock.now();
      const held = table.find(certId, exchange.answers![0]!, signerNow(exchange, now), now);
      if (held !== undefined) {
        exchange.answers = [held.answer];
        exchange.response = held.response;
        // Served from a cache, not signed now: the send step keeps its ETag and headers beside the
        // bytes (no hash per request), and vouch_answers_total counts only signatures made.
        exchange.source = "cache";
        return;
      }
      const signing = sign.run(exchange);
      if (signing === undefined) return keep(exchange);
      return signing.then(() => keep(exchange));
    },
  };
}
