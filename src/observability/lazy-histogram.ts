/**
 * A Prometheus histogram for the hot path. prom-client's `observe` copies, validates and hashes the
 * label set on every call (a few hundred nanoseconds to over a microsecond, once per request); a
 * child bound here costs a bucket search and three additions. The registry reads it through the same
 * `get()` shape as prom-client's own Histogram, so text exposition and the supervisor's
 * AggregatorRegistry (aggregate.ts) treat it alike.
 */
import type { Registry } from "./prom-client.ts";
import { labelSetKey } from "./label-set-key.ts";

/** One exported sample, as prom-client's registry and AggregatorRegistry read them. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/** A histogram child bound to one label set. */
export interface BoundHistogram {
  observe(value: number): void;
}

export interface LazyHistogram<L extends string> {
  /** The child for one label set; the same object for the same values. */
  labels(labels: Readonly<Record<L, string>>): BoundHistogram;
}

interface Series<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  /** Non-cumulative counts per upper bound; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export function lazyHistogram<L extends string>(
  registry: Registry,
  options: { readonly name: string; readonly help: string; readonly labelNames: readonly L[]; readonly buckets: readonly number[] },
): LazyHistogram<L> {
  const { name, help, labelNames } = options;
  const bounds = [...options.buckets].sort((a, b) => a - b);
  const series = new Map<string, Series<L>>();
  const metric = {
    name,
    help,
    type: "histogram",
    labelNames,
    aggregator: "sum",
    async get() {
      const values: Sample[] = [];
      for (const one of series.values()) {
        let cumulative = 0;
        for (let i = 0; i < bounds.length; i++) {
          cumulative += one.counts[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { le: bounds[i]!, ...one.labels }, value: cumulative });
        }
        values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", ...one.labels }, value: one.count });
        values.push({ metricName: `${name}_sum`, labels: { ...one.labels }, value: one.sum });
        values.push({ metricName: `${name}_count`, labels: { ...one.labels }, value: one.count });
      }
      return { name, help, type: "histogram", values, aggregator: "sum" };
    },
    reset() {
      for (const one of series.values()) {
        one.counts.fill(0);
        one.sum = 0;
        one.count = 0;
      }
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry["registerMetric"]>[0]);
  return {
    labels(labels) {
      const key = labelSetKey(labelNames, labels);
      let one = series.get(key);
      if (one === undefined) {
        one = { labels: { ...labels }, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 };
        series.set(key, one);
      }
      const bound = one;
      return {
        observe(value) {
          let i = 0;
          while (i < bounds.length && value > bounds[i]!) i++;
          bound.counts[i]!++;
          bound.sum += value;
          bound.count++;
        },
      };
    },
  };
}
