import type { Clock } from "../clock.ts";
import type { DecodedBasicResponse } from "../ocsp/decode-response.ts";
import type { OcspRequest, SingleResponse } from "../ocsp/types.ts";
import { logSampler } from "../observability/log-sampler.ts";
import type { Logger } from "../observability/logger.ts";
import type { NameMatcher } from "../trust/name-match.ts";
import { acceptResponse, type ResponseChecks } from "./accept-response.ts";
import type { DiscoveryMethod, UrlDiscovery } from "./discovery.ts";
import { subjectOf, type IssuerOf } from "./known-issuers.ts";
import type { RemoteResponder } from "./remote-responder.ts";

/** What the forwarder is built from (one per responder: its breakers count for its requests and its background work alike). */
export interface ForwarderOptions {
  /** Discovery methods, in the configured order. */
  readonly methods: readonly DiscoveryMethod[];
  readonly discovery: UrlDiscovery;
  /** When set, only requests whose issuer is known and matches a pattern are forwarded. */
  readonly onlyForIssuer: NameMatcher | undefined;
  readonly remote: RemoteResponder;
  readonly checks: ResponseChecks;
  readonly issuerOf: IssuerOf;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called for each URL a method named that `allowedUrls` refuses (for a metric). */
  readonly onRefusedUrl?: ((method: DiscoveryMethod) => void) | undefined;
}

/** What became of one request. */
export type ForwardOutcome =
  /** Not forwardable: several issuers, an issuer outside onlyForIssuer, or no method named a URL. */
  | { readonly kind: "not-forwarded" }
  /** URLs were tried and none gave an acceptable response. */
  | { readonly kind: "failed"; readonly tried: readonly string[] }
  /** The remote's response, exactly as received, and what it says. */
  | { readonly kind: "answered"; readonly der: Buffer; readonly basic: DecodedBasicResponse; readonly answers: SingleResponse[]; readonly issuer: Buffer | undefined };

/** The back-end client of SPEC step 6 as one call: discovery, the remote, the checks. */
export interface Forwarder {
  /**
   * Sends `received` (the DER of `request`, unchanged) to the URL of the first discovery method that
   * names an allowed one, then the next method's URL while answers are missing or refused (a URL
   * outside `allowedUrls` is logged, counted and skipped). Never rejects.
   */
  forward(request: OcspRequest, received: Buffer, signal: AbortSignal): Promise<ForwardOutcome>;
}

export function forwarder(options: ForwarderOptions): Forwarder {
  const { methods, discovery, onlyForIssuer, remote, checks, issuerOf, clock, logger, onRefusedUrl } = options;
  const sampler = logSampler(20, clock);
  const note = (fields: Record<string, unknown>, message: string): void => {
    const dropped = sampler.admit();
    if (dropped !== undefined) logger.warn({ step: "forwarding", ...fields, ...(dropped > 0 ? { dropped } : {}) }, message);
  };
  return {
    async forward(request, received, signal) {
      const certId = request.requests[0]!.certId;
      if (!oneIssuer(request)) return { kind: "not-forwarded" };
      const issuer = issuerOf(certId);
      if (onlyForIssuer !== undefined && (issuer === undefined || !onlyForIssuer.matches(subjectOf(issuer)))) return { kind: "not-forwarded" };
      const tried: string[] = [];
      for (const method of methods) {
        const found = discovery.find(method, request);
        if (found === undefined) continue;
        const url = found.url;
        if (!found.allowed) {
          onRefusedUrl?.(method);
          note({ method, url: url.href, result: "not-allowed" }, "forwarding URL refused: not in allowedUrls");
          continue;
        }
        if (tried.includes(url.href)) continue;
        tried.push(url.href);
        const answer = await remote.ask(url, received, signal);
        if (!answer.ok) {
          note({ method, url: url.href, result: answer.failure, attempts: answer.attempts, reason: answer.detail }, "remote responder gave no answer");
          continue;
        }
        const accepted = await acceptResponse(answer.response, request, checks, issuerOf, clock.now());
        if (!accepted.ok) {
          note({ method, url: url.href, result: accepted.refused, reason: accepted.detail }, "remote response refused");
          continue;
        }
        return { kind: "answered", der: answer.response.der, basic: accepted.basic, answers: accepted.answers, issuer };
      }
      return tried.length === 0 ? { kind: "not-forwarded" } : { kind: "failed", tried };
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
