import { TryLaterError } from "../../errors.ts";
import type { Forwarder } from "../../forwarding/forwarder.ts";
import { subjectOf } from "../../forwarding/known-issuers.ts";
import type { DecodedBasicResponse } from "../../ocsp/decode-response.ts";
import type { CertId, OcspRequest } from "../../ocsp/types.ts";
import type { Logger } from "../../observability/logger.ts";
import type { ResponseCache } from "../../responses/response-cache.ts";
import { responseEtag } from "../../responses/response-etag.ts";
import type { SignedResponse } from "../exchange.ts";
import type { Step } from "../step.ts";

/** What the forwarding step is built from. */
export interface ForwardingOptions {
  /** Discovery, the remote and the checks (forwarding/forwarder.ts). */
  readonly forwarder: Forwarder;
  /** Cached types: forwarded responses without a nonce and with one single response are kept here. */
  readonly responseCache?: ResponseCache;
  readonly logger: Logger;
}

/**
 * SPEC step 6: forwarding. A request whose single requests all share one issuer (and, with
 * `onlyForIssuer`, one that matches) goes to the URL of the first discovery method that names one,
 * exactly as received; the remote's response goes back exactly as received when it passes the
 * checks, else the next method's URL is tried (a URL already tried is not tried again).
 *
 * When no method names a URL, the request was not forwardable and local validation answers it as
 * it would without forwarding. When URLs were tried and none gave an acceptable response: local
 * validation answers if this responder serves the issuer; otherwise the step throws TryLaterError.
 */
export function forwardingStep(options: ForwardingOptions): Step {
  const { forwarder, responseCache, logger } = options;
  return {
    name: "forwarding",
    async run(exchange) {
      const request = exchange.request!;
      const outcome = await forwarder.forward(request, exchange.received, exchange.signal);
      if (outcome.kind === "not-forwarded") return;
      const certId = request.requests[0]!.certId;
      if (outcome.kind === "failed") {
        // Local validation answers when this responder serves the issuer (one issuer: forwarding checked that).
        if (exchange.servedIssuers![0] !== undefined) return;
        throw new TryLaterError(`no remote responder gave an acceptable answer (tried ${outcome.tried.join(", ")})`);
      }
      exchange.answers = outcome.answers;
      exchange.response = forwardedResponse(outcome.der, outcome.basic, request);
      exchange.source = "forward";
      if (responseCache !== undefined && outcome.issuer !== undefined && exchange.response.cacheWindow !== undefined) {
        const { thisUpdate, nextUpdate, etag } = exchange.response.cacheWindow;
        storeQuietly(responseCache, certId, { body: outcome.der, thisUpdate, nextUpdate, producedAt: outcome.basic.producedAt, issuerNameDer: subjectOf(outcome.issuer), etag }, logger);
      }
    },
  };
}

/**
 * The response as received. HTTP may cache it (SPEC §5) only when it answers one certificate
 * authoritatively (good or revoked) with a nextUpdate, and carries no nonce.
 */
function forwardedResponse(body: Buffer, basic: DecodedBasicResponse, request: OcspRequest): SignedResponse {
  const single = basic.responses.length === 1 ? basic.responses[0]! : undefined;
  const cacheable = request.nonce === undefined && basic.nonce === undefined && request.requests.length === 1 && single !== undefined && single.status.kind !== "unknown" && single.nextUpdate !== undefined;
  return { body, producedAt: basic.producedAt, cacheWindow: cacheable ? { thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate!, etag: responseEtag(body) } : undefined };
}

/** The cache never rejects by contract; a broken tier must still not fail a request that has its answer. */
function storeQuietly(cache: ResponseCache, certId: CertId, response: Parameters<ResponseCache["put"]>[1], logger: Logger): void {
  cache.put(certId, response).catch((error: unknown) => logger.error({ step: "forwarding", err: error }, "response cache put failed"));
}
