/**
 * The gauges of CRLs fetched from URLs (docs/observability.md): per URL, when the last fetch was
 * tried and how it ended, when one last succeeded, and the CRL held (its number and age), so that an
 * alert can tell a CA that stopped publishing (age grows, fetches succeed) from a site that is down
 * (fetches fail).
 */
import { Gauge, type Registry } from "./prom-client.ts";
import type { Clock } from "../clock.ts";

/** One URL's fetches, as the gauges read them (ms since the epoch). */
export interface CrlFetchReport {
  readonly url: string;
  readonly lastAttemptAt: number | undefined;
  readonly lastResult: string | undefined;
  readonly lastSuccessAt: number | undefined;
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: number | undefined;
}

/** What the gauges read: one source's URLs. */
export interface CrlFetchProbe {
  readonly labels: { readonly responder: string; readonly issuer: string };
  fetches(): readonly CrlFetchReport[];
}

/** Registers the gauges on `registry`; returns how a source's URLs join them (and leave, on close). */
export function crlFetchGauges(registry: Registry, clock: Clock): (probe: CrlFetchProbe) => () => void {
  const probes = new Set<CrlFetchProbe>();
  const gauge = (name: string, help: string, aggregator: "max" | "min", value: (report: CrlFetchReport, now: number) => number | undefined, extra: readonly string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames: ["responder", "issuer", "url", ...extra],
      registers: [registry],
      aggregator,
      collect() {
        this.reset();
        const now = clock.now();
        for (const probe of probes) {
          for (const report of probe.fetches()) {
            const v = value(report, now);
            if (v !== undefined) this.set({ ...probe.labels, url: report.url, ...(extra.length > 0 ? { result: report.lastResult ?? "none" } : {}) }, v);
          }
        }
      },
    });
  gauge("vouch_crl_fetch_last_attempt_seconds", "When the last fetch of each CRL URL was tried, in seconds since the epoch.", "max", (r) => seconds(r.lastAttemptAt));
  gauge("vouch_crl_fetch_last_success_seconds", "When a fetch of each CRL URL last succeeded (a new CRL, 304, or the same bytes), in seconds since the epoch.", "max", (r) => seconds(r.lastSuccessAt));
  gauge(
    "vouch_crl_fetch_last_result",
    "1 for how the last fetch of each CRL URL ended: new, not-modified, unchanged, failed, refused (a check failed) or rolled-back.",
    "max",
    (r) => (r.lastResult === undefined ? undefined : 1),
    ["result"],
  );
  gauge("vouch_crl_number", "The cRLNumber of the CRL held from each URL.", "min", (r) => (r.crlNumber === undefined ? undefined : Number(r.crlNumber)));
  gauge("vouch_crl_age_seconds", "Seconds since the thisUpdate of the CRL held from each URL.", "max", (r, now) => (r.thisUpdate === undefined ? undefined : (now - r.thisUpdate) / 1000));
  return (probe) => {
    probes.add(probe);
    return () => {
      probes.delete(probe);
    };
  };
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}
