/**
 * Vouch's Prometheus metrics: one registry per process (docs/observability.md lists every metric).
 * Each layer reports its own outcomes with a `result` label (STYLE convention 9): the pipeline per
 * step, each revocation source, each signer; the HTTP layer per request.
 *
 * Hot path: the counters here are "lazy" (lazy-counter.ts): a bound child is a plain number
 * incremented in place, flushed into prom-client at scrape time.
 * Several processes are combined with prom-client's AggregatorRegistry (aggregate.ts): counters and
 * histograms sum; each gauge says how it combines (`aggregator`).
 */
import { Gauge, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from "./prom-client.ts";
import type { Clock } from "../clock.ts";
import { lazyCounter, type LazyCounter } from "./lazy-counter.ts";
import { lazyHistogram, type LazyHistogram } from "./lazy-histogram.ts";
import { operationsMetrics, type OperationsMetrics } from "./operations-metrics.ts";
import { crlFetchGauges, type CrlFetchProbe } from "./crl-fetch-metrics.ts";

export type { BoundCounter, LazyCounter } from "./lazy-counter.ts";

/** What a source's freshness gauge reads (see StatusSource.freshness). */
export interface FreshnessProbe {
  readonly labels: { readonly responder: string; readonly issuer: string; readonly source: string };
  freshness(): { readonly loadedAt: number; readonly nextUpdate?: number } | undefined;
}

/** One tier of the certificate cache, as the `vouch_certificate_cache_*` gauges show it. */
export interface CertificateCacheTier {
  readonly tier: string;
  readonly certificates: number;
  readonly bytes: number;
}

/** What the signer validity gauges read: one issuer's signers (staged, current and retired). */
export interface SignerProbe {
  readonly labels: { readonly responder: string; readonly issuer: string };
  signers(): readonly { readonly serial: string; readonly notBefore: number; readonly notAfter: number }[];
}

/** Per issuer readiness, as the gauge `vouch_issuer_ready` shows it. */
export interface ReadinessSnapshot {
  readonly issuers: readonly { readonly responder: string; readonly issuer: string; readonly ready: boolean }[];
}

const REQUEST_LABELS = ["responder", "type", "method", "outcome", "status", "code"] as const;
export type RequestLabel = (typeof REQUEST_LABELS)[number];

/** The metrics of one process. */
export interface VouchMetrics {
  readonly registry: Registry;
  /** `vouch_requests_total`: every OCSP exchange, and HTTP-level refusals of the OCSP endpoints. */
  readonly requests: LazyCounter<RequestLabel>;
  /** `vouch_request_duration_seconds{responder}`: from a complete request to the reply written. */
  readonly requestDuration: LazyHistogram<"responder">;
  /**
   * `vouch_revocation_applied_seconds{responder,source,origin}`: from a change becoming known to its
   * source (a file's mtime, a store row's change time) until answers and caches hold it (issue 14);
   * `origin` "local" for this worker's own sources, "remote" for another instance's (or worker's)
   * change heard on the change channel.
   */
  readonly revocationApplied: LazyHistogram<"responder" | "source" | "origin">;
  /** `vouch_answers_total{responder,status}`: certificate statuses in locally signed responses. */
  readonly answers: LazyCounter<"responder" | "status">;
  /** `vouch_step_results_total{responder,step,result}`. */
  readonly stepResults: LazyCounter<"responder" | "step" | "result">;
  /** `vouch_source_results_total{responder,issuer,source,result}`. */
  readonly sourceResults: LazyCounter<"responder" | "issuer" | "source" | "result">;
  /** `vouch_signer_results_total{responder,issuer,result}`. */
  readonly signerResults: LazyCounter<"responder" | "issuer" | "result">;
  /** Response cache, Redis, circuit breakers, billing batches, open connections (operations-metrics.ts). */
  readonly operations: OperationsMetrics;
  /** `vouch_signer_renewals_total{responder,issuer,result}`: automatic renewals, `renewed` or `failed`. */
  readonly signerRenewals: LazyCounter<"responder" | "issuer" | "result">;
  /**
   * Registers an issuer's signers for `vouch_signer_not_before_seconds` and
   * `vouch_signer_not_after_seconds`. Returns the function that removes them (on close).
   */
  trackSigners(probe: SignerProbe): () => void;
  /**
   * `vouch_request_signature_candidates_total{responder}`: candidate signer certificates the
   * request-signature step considered for signed requests (from the request, and from the cache by
   * requestorName): each may cost a signature check and a validation.
   */
  readonly signerCandidates: LazyCounter<"responder">;
  /** `vouch_forwarding_urls_refused_total{responder,method}`: forwarding URLs outside `allowedUrls`. */
  readonly forwardingUrlsRefused: LazyCounter<"responder" | "method">;
  /**
   * Registers a source whose data age the scrape reports (`vouch_source_data_age_seconds`,
   * `vouch_source_next_update_seconds`). Returns the function that removes it (on close).
   */
  trackFreshness(probe: FreshnessProbe): () => void;
  /** Registers a crl source's URLs for the `vouch_crl_*` gauges (crl-fetch-metrics.ts). Returns the function that removes them. */
  trackCrlFetches(probe: CrlFetchProbe): () => void;
  /** Sets where `vouch_issuer_ready` comes from (called once the issuers exist). */
  trackReadiness(check: () => Promise<ReadinessSnapshot>): void;
  /**
   * Sets where `vouch_certificate_cache_certificates{tier}` and `vouch_certificate_cache_bytes{tier}`
   * come from (called once the trust store exists; a reload replaces it).
   */
  trackCertificateCache(tiers: () => readonly CertificateCacheTier[]): void;
  /** The text exposition format, for /metrics. */
  text(): Promise<string>;
  /** The registry as JSON, for a supervisor to aggregate (AggregatorRegistry.aggregate). */
  json(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
}

/** Latency buckets in seconds: OCSP answers take 0.1–10 ms when healthy; the tail shows trouble. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Propagation buckets in seconds: the goal is under one second (issue 14); file polling and clocks add the rest. */
const PROPAGATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60];

export interface MetricsOptions {
  readonly clock: Clock;
  /** Also collect prom-client's default process and Node.js metrics (default true). */
  readonly processMetrics?: boolean;
}

/** Creates a fresh registry with every Vouch metric registered. Never throws. */
export function createMetrics(options: MetricsOptions): VouchMetrics {
  const { clock } = options;
  const registry = new Registry();
  const lazy = <L extends string>(name: string, help: string, labelNames: readonly L[]): LazyCounter<L> => lazyCounter(registry, name, help, labelNames);
  const probes = new Set<FreshnessProbe>();
  const signerProbes = new Set<SignerProbe>();
  let readiness: (() => Promise<ReadinessSnapshot>) | undefined;
  let cacheTiers: (() => readonly CertificateCacheTier[]) | undefined;

  new Gauge({
    name: "vouch_source_data_age_seconds",
    help: "Seconds since the source loaded the data it answers from (the last successful load or reload).",
    labelNames: ["responder", "issuer", "source"],
    registers: [registry],
    aggregator: "max",
    collect() {
      this.reset();
      const now = clock.now();
      for (const probe of probes) {
        const fresh = probe.freshness();
        if (fresh !== undefined) this.set(probe.labels, (now - fresh.loadedAt) / 1000);
      }
    },
  });
  new Gauge({
    name: "vouch_source_next_update_seconds",
    help: "Seconds until the nextUpdate of the source's data (negative once past); absent for data without nextUpdate.",
    labelNames: ["responder", "issuer", "source"],
    registers: [registry],
    aggregator: "min",
    collect() {
      this.reset();
      const now = clock.now();
      for (const probe of probes) {
        const nextUpdate = probe.freshness()?.nextUpdate;
        if (nextUpdate !== undefined) this.set(probe.labels, (nextUpdate - now) / 1000);
      }
    },
  });
  // Unix times, as certificate exporters give them: alert on `vouch_signer_not_after_seconds - time() < 14 * 86400`.
  for (const [name, help, edge] of [
    ["vouch_signer_not_before_seconds", "notBefore of each signer certificate of an issuer, in seconds since the epoch.", "notBefore"],
    ["vouch_signer_not_after_seconds", "notAfter of each signer certificate of an issuer, in seconds since the epoch.", "notAfter"],
  ] as const) {
    new Gauge({
      name,
      help,
      labelNames: ["responder", "issuer", "serial"],
      registers: [registry],
      aggregator: "max",
      collect() {
        this.reset();
        for (const probe of signerProbes) {
          for (const signer of probe.signers()) this.set({ ...probe.labels, serial: signer.serial }, signer[edge] / 1000);
        }
      },
    });
  }
  new Gauge({
    name: "vouch_issuer_ready",
    help: "1 when the issuer has current data and a working signer (the /readyz rules), else 0.",
    labelNames: ["responder", "issuer"],
    registers: [registry],
    aggregator: "min",
    async collect() {
      this.reset();
      if (readiness === undefined) return;
      for (const issuer of (await readiness()).issuers) this.set({ responder: issuer.responder, issuer: issuer.issuer }, issuer.ready ? 1 : 0);
    },
  });
  for (const [unit, help] of [
    ["certificates", "Certificates held in each tier of the certificate cache: persistent, authenticated, unauthenticated."],
    ["bytes", "DER bytes held in each tier of the certificate cache."],
  ] as const) {
    new Gauge({
      name: `vouch_certificate_cache_${unit}`,
      help,
      labelNames: ["tier"],
      registers: [registry],
      aggregator: "sum",
      collect() {
        this.reset();
        for (const tier of cacheTiers?.() ?? []) this.set({ tier: tier.tier }, unit === "bytes" ? tier.bytes : tier.certificates);
      },
    });
  }
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const trackCrlFetches = crlFetchGauges(registry, clock);

  return {
    registry,
    requests: lazy("vouch_requests_total", "OCSP requests by responder, responder type, HTTP method, outcome, OCSP response status and HTTP status code.", REQUEST_LABELS),
    requestDuration: lazyHistogram(registry, {
      name: "vouch_request_duration_seconds",
      help: "Time from a complete request to its reply being written, per responder.",
      labelNames: ["responder"],
      buckets: DURATION_BUCKETS,
    }),
    revocationApplied: lazyHistogram(registry, {
      name: "vouch_revocation_applied_seconds",
      help: "Time from a revocation data change becoming known to its source (file mtime, store row change time) until answers and response caches hold it.",
      labelNames: ["responder", "source", "origin"],
      buckets: PROPAGATION_BUCKETS,
    }),
    answers: lazy("vouch_answers_total", "Certificate statuses (good, revoked, unknown) in locally signed responses.", ["responder", "status"]),
    stepResults: lazy("vouch_step_results_total", "Results of each request-workflow step: answered, passed, or the OCSP error status it failed with.", ["responder", "step", "result"]),
    sourceResults: lazy("vouch_source_results_total", "Answers of each revocation source: good, revoked, unknown, not-issued, none (issuer not served) or error.", [
      "responder",
      "issuer",
      "source",
      "result",
    ]),
    signerResults: lazy("vouch_signer_results_total", "Signatures by each issuer's signer: signed or error.", ["responder", "issuer", "result"]),
    forwardingUrlsRefused: lazy("vouch_forwarding_urls_refused_total", "URLs named by servicelocator or fromcert that forwarding refused because allowedUrls does not allow them.", ["responder", "method"]),
    signerCandidates: lazy("vouch_request_signature_candidates_total", "Candidate signer certificates considered for signed requests (each may cost a signature check and a validation).", ["responder"]),
    operations: operationsMetrics(registry),
    signerRenewals: lazy("vouch_signer_renewals_total", "Automatic signer renewals (signer.renew): renewed or failed.", ["responder", "issuer", "result"]),
    trackSigners(probe) {
      signerProbes.add(probe);
      return () => {
        signerProbes.delete(probe);
      };
    },
    trackFreshness(probe) {
      probes.add(probe);
      return () => {
        probes.delete(probe);
      };
    },
    trackCrlFetches,
    trackReadiness(check) {
      readiness = check;
    },
    trackCertificateCache(tiers) {
      cacheTiers = tiers;
    },
    text: () => registry.metrics(),
    json: () => registry.getMetricsAsJSON(),
  };
}
