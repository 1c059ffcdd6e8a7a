/**
 * prom-client's parts that Vouch uses, required one by one instead of through its index: the index
 * also loads its Pushgateway client, and with it node:http, node:https and zlib, which a responder
 * without forwarding, CRL URLs or an admin listener never uses (node:http alone is ~6 MB resident
 * once everything else is loaded; issue 18). Same classes, same global registry semantics.
 */
import { createRequire } from "node:module";
import type * as Prometheus from "prom-client";

const require = createRequire(import.meta.url);

export const Registry = require("prom-client/lib/registry") as typeof Prometheus.Registry;
export type Registry = Prometheus.Registry;
export const Counter = require("prom-client/lib/counter") as typeof Prometheus.Counter;
export type Counter<T extends string = string> = Prometheus.Counter<T>;
export const Gauge = require("prom-client/lib/gauge") as typeof Prometheus.Gauge;
export type Gauge<T extends string = string> = Prometheus.Gauge<T>;
/**
 * prom-client's process and Node.js metrics, required on the first call: their modules pull in
 * @opentelemetry/api (51 modules) and perf_hooks, ~8 MiB resident in a bare Node (issue 18), and
 * only a process with an admin listener collects them.
 */
export function collectDefaultMetrics(config: Prometheus.DefaultMetricsCollectorConfiguration<Prometheus.RegistryContentType>): void {
  (require("prom-client/lib/defaultMetrics") as typeof Prometheus.collectDefaultMetrics)(config);
}
/** prom-client's AggregatorRegistry, required on the first use (only a supervisor with an admin listener aggregates). */
export const aggregatorRegistry = (): typeof Prometheus.AggregatorRegistry => require("prom-client/lib/cluster") as typeof Prometheus.AggregatorRegistry;
export const prometheusContentType: Prometheus.PrometheusContentType = Registry.PROMETHEUS_CONTENT_TYPE;
export type { Aggregator, MetricObjectWithValues, MetricValue } from "prom-client";
