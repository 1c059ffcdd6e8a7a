/**
 * A layer that counts what a revocation source answers (STYLE convention 9): one counter,
 * `vouch_source_results_total`, labelled by `result`; beside it, the source's data age for the scrape.
 */
import { isPromise, type Awaitable } from "../awaitable.ts";
import type { VouchMetrics } from "../observability/metrics.ts";
import type { CertId } from "../ocsp/types.ts";
import type { OpenedSource, StatusAnswer, StatusSource } from "./status-source.ts";

/** What `vouch_source_results_total{result}` counts. `none`: the source does not serve the issuer. */
const SOURCE_RESULTS = ["good", "revoked", "unknown", "not-issued", "none", "error"] as const;
export type SourceResult = (typeof SOURCE_RESULTS)[number];

export interface MeteredSourceOptions {
  readonly metrics: VouchMetrics;
  /** The responder the issuer belongs to (label `responder`). */
  readonly responder: string;
  /** The issuer's name (label `issuer`). */
  readonly issuer: string;
  /** The source's type as configured, e.g. "index", "crl" (label `source`). */
  readonly source: string;
}

/**
 * Wraps `inner`: every answer is counted by kind, `undefined` as `none`, a rejection as `error`
 * (and rethrown unchanged). Answers and errors pass through unchanged. The label sets are bound
 * here, once.
 */
export function meteredSource(inner: StatusSource, options: MeteredSourceOptions): StatusSource {
  const { metrics, responder, issuer, source } = options;
  const counted = Object.fromEntries(SOURCE_RESULTS.map((result) => [result, metrics.sourceResults.child({ responder, issuer, source, result })])) as Record<
    SourceResult,
    { inc(): void }
  >;
  const count = (answer: StatusAnswer | undefined): StatusAnswer | undefined => {
    counted[answer === undefined ? "none" : answer.kind].inc();
    return answer;
  };
  return {
    status(id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> {
      let answer: Awaitable<StatusAnswer | undefined>;
      try {
        answer = inner.status(id, signal);
      } catch (error) {
        counted.error.inc();
        throw error;
      }
      if (!isPromise(answer)) return count(answer);
      return answer.then(count, (error: unknown) => {
        counted.error.inc();
        throw error;
      });
    },
  };
}

/**
 * When `opened` reports freshness, the scrape reports its data age and time to nextUpdate under
 * the labels of `options` from now on; returns what stops that (nothing to stop otherwise).
 */
export function meterFreshness(opened: OpenedSource, options: MeteredSourceOptions): () => void {
  const { metrics, responder, issuer, source } = options;
  if (opened.freshness === undefined) return () => {};
  return metrics.trackFreshness({ labels: { responder, issuer, source }, freshness: () => opened.freshness!() });
}

/** When `opened` fetches CRLs from URLs, the scrape reports each URL's fetches from now on; returns what stops that. */
export function meterCrlFetches(opened: OpenedSource, options: MeteredSourceOptions): () => void {
  const { metrics, responder, issuer } = options;
  if (opened.fetches === undefined) return () => {};
  return metrics.trackCrlFetches({ labels: { responder, issuer }, fetches: () => opened.fetches!() });
}
