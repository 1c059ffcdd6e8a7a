/**
 * Combining the metrics of several processes (the workers of `vouch serve --workers N`): each
 * worker answers `VouchMetrics.json()`; the supervisor aggregates with prom-client's
 * AggregatorRegistry: counters and histograms are summed, each gauge combined by the aggregator
 * it was declared with (data age: max; time to nextUpdate and readiness: min).
 */
import { aggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "./prom-client.ts";

/** The JSON form of one process's registry (`registry.getMetricsAsJSON()`). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The text exposition of the processes' metrics combined. Throws when the JSON is not prom-client's. */
export async function aggregateMetrics(perProcess: readonly MetricsJson[]): Promise<string> {
  return aggregatorRegistry().aggregate(perProcess as MetricsJson[]).metrics();
}
