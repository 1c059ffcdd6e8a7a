/**
 * A prom-client counter for the hot path: a bound child is a plain number incremented in place, and
 * the scrape (collect) adds what accumulated to the prom-client counter. prom-client's own `inc`
 * hashes the label set on every call (~0.3–0.8 µs each measured here, eight per request); a lazy
 * child costs one addition. Label sets are bound once, when a responder is built.
 */
import { Counter, type Aggregator, type Registry } from "./prom-client.ts";
import { labelSetKey } from "./label-set-key.ts";

/** A counter child bound to one label set. */
export interface BoundCounter {
  inc(): void;
}

/** A counter whose children are bound once and flushed into prom-client at scrape time. */
export interface LazyCounter<L extends string> {
  /** The child for one label set; the same object for the same values. */
  child(labels: Readonly<Record<L, string>>): BoundCounter;
}

/**
 * A prom-client Counter fed by bound children that count in plain numbers; `collect` (run by every
 * scrape, before the values are read) moves the pending counts into the counter. A child's series
 * is exported from the moment it is bound, at 0.
 */
export function lazyCounter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], aggregator: Aggregator = "sum"): LazyCounter<L> {
  const children = new Map<string, { labels: Readonly<Record<L, string>>; pending: number; inc(): void }>();
  const counter = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    aggregator,
    collect() {
      for (const child of children.values()) {
        if (child.pending === 0) continue;
        this.inc(child.labels as Partial<Record<L, string>>, child.pending);
        child.pending = 0;
      }
    },
  });
  return {
    child(labels) {
      const key = labelSetKey(labelNames, labels);
      let child = children.get(key);
      if (child === undefined) {
        const copy = { ...labels };
        // The series exists from the moment it is bound, at 0, so rates and dashboards see it.
        counter.inc(copy as Partial<Record<L, string>>, 0);
        const created = {
          labels: copy,
          pending: 0,
          inc: () => {
            created.pending++;
          },
        };
        child = created;
        children.set(key, child);
      }
      return child;
    },
  };
}
