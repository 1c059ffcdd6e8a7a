import type { Clock } from "../../clock.ts";
import { TryLaterError } from "../../errors.ts";
import { acceptResponse, type ResponseChecks } from "../../forwarding/accept-response.ts";
import type { DiscoveryMethod, UrlDiscovery } from "../../forwarding/discovery.ts";
import { subjectOf, type IssuerOf } from "../../forwarding/known-issuers.ts";
import type { RemoteResponder } from "../../forwarding/remote-responder.ts";
import type { DecodedBasicResponse } from "../../ocsp/decode-response.ts";
import type { CertId, OcspRequest } from "../../ocsp/types.ts";
import { logSampler } from "../../observability/log-sampler.ts";
import type { Logger } from "../../observability/logger.ts";
import type { ResponseCache } from "../../responses/response-cache.ts";
import type { NameMatcher } from "../../trust/name-match.ts";
import type { SignedResponse } from "../exchange.ts";
import type { IssuerDirectory } from "../issuer-directory.ts";
import type { Step } from "../step.ts";

/** What the forwarding step is built from. */
export interface ForwardingOptions {
  /** Discovery methods, in the configured order. */
  readonly methods: readonly DiscoveryMethod[];
  readonly discovery: UrlDiscovery;
  /** When set, only requests whose issuer is known and matches a pattern are forwarded. */
  readonly onlyForIssuer: NameMatcher | undefined;
  readonly remote: RemoteResponder;
  readonly checks: ResponseChecks;
  readonly issuerOf: IssuerOf;
  /** The issuers this responder serves: the fallback when forwarding fails. */
  readonly issuers: IssuerDirectory;
  /** Cached types: forwarded responses without a nonce and with one single response are kept here. */
  readonly responseCache?: ResponseCache;
  readonly clock: Clock;
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
  const { methods, discovery, onlyForIssuer, remote, checks, issuerOf, issuers, responseCache, clock, logger } = options;
  const sampler = logSampler(20, clock);
  const note = (fields: Record<string, unknown>, message: string): void => {
    const dropped = sampler.admit();
    if (dropped !== undefined) logger.warn({ step: "forwarding", ...fields, ...(dropped > 0 ? { dropped } : {}) }, message);
  };
  return {
    name: "forwarding",
    async run(exchange) {
      const request = exchange.request!;
      const certId = request.requests[0]!.certId;
      if (!oneIssuer(request)) return;
      const issuer = issuerOf(certId);
      if (onlyForIssuer !== undefined && (issuer === undefined || !onlyForIssuer.matches(subjectOf(issuer)))) return;
      const tried = new Set<string>();
      for (const method of methods) {
        const url = discovery.find(method, request);
        if (url === undefined || tried.has(url.href)) continue;
        tried.add(url.href);
        const answer = await remote.ask(url, exchange.received, exchange.signal);
        if (!answer.ok) {
          note({ method, url: url.href, result: answer.failure, attempts: answer.attempts, reason: answer.detail }, "remote responder gave no answer");
          continue;
        }
        const accepted = await acceptResponse(answer.response, request, checks, issuerOf, clock.now());
        if (!accepted.ok) {
          note({ method, url: url.href, result: accepted.refused, reason: accepted.detail }, "remote response refused");
          continue;
        }
        exchange.answers = accepted.answers;
        exchange.response = forwardedResponse(answer.response.der, accepted.basic, request);
        exchange.source = "forward";
        if (responseCache !== undefined && issuer !== undefined && exchange.response.cacheWindow !== undefined) {
          const { thisUpdate, nextUpdate } = exchange.response.cacheWindow;
          storeQuietly(responseCache, certId, { body: answer.response.der, thisUpdate, nextUpdate, issuerNameDer: subjectOf(issuer) }, logger);
        }
        return;
      }
      if (tried.size === 0 || issuers.find(certId) !== undefined) return;
      throw new TryLaterError(`no remote responder gave an acceptable answer (tried ${[...tried].join(", ")})`);
    },
  };
}

/** True when every single request names the same issuer (hash algorithm, name and key hashes). */
function oneIssuer(request: OcspRequest): boolean {
  const first = request.requests[0]!.certId;
  return request.requests.every(
    ({ certId }) => certId.hashAlgorithm === first.hashAlgorithm && certId.issuerKeyHash.equals(first.issuerKeyHash) && certId.issuerNameHash.equals(first.issuerNameHash),
  );
}

/**
 * The response as received. HTTP may cache it (SPEC §5) only when it answers one certificate
 * authoritatively (good or revoked) with a nextUpdate, and carries no nonce.
 */
function forwardedResponse(body: Buffer, basic: DecodedBasicResponse, request: OcspRequest): SignedResponse {
  const single = basic.responses.length === 1 ? basic.responses[0]! : undefined;
  const cacheable = request.nonce === undefined && basic.nonce === undefined && request.requests.length === 1 && single !== undefined && single.status.kind !== "unknown" && single.nextUpdate !== undefined;
  return { body, cacheWindow: cacheable ? { thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate! } : undefined };
}

/** The cache never rejects by contract; a broken tier must still not fail a request that has its answer. */
function storeQuietly(cache: ResponseCache, certId: CertId, response: Parameters<ResponseCache["put"]>[1], logger: Logger): void {
  cache.put(certId, response).catch((error: unknown) => logger.error({ step: "forwarding", err: error }, "response cache put failed"));
}
