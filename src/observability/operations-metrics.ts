/**
 * The metrics an operator watches besides requests (docs/observability.md): the response cache's
 * size and evictions, Redis availability, each remote responder's circuit breaker, billing batches,
 * and open connections per listener. What a scrape shows is read from the running components
 * through probes they register when built and remove when closed (a reload builds new ones), so the
 * request path does nothing for the gauges; the counters are lazy (metrics.ts).
 *
 * Across workers (aggregate.ts): sizes, connections and counters are summed; Redis availability
 * takes the minimum (down in any worker shows as down); a circuit state takes the maximum (open in
 * any worker shows as open).
 */
import { Gauge, type Registry } from "./prom-client.ts";
import { lazyCounter, type LazyCounter } from "./lazy-counter.ts";

/** The states of a circuit breaker (forwarding/circuit-breaker.ts), each a series of `vouch_forwarding_circuit_state`. */
const CIRCUIT_STATES = ["closed", "half-open", "open"] as const;
export type CircuitStateName = (typeof CIRCUIT_STATES)[number];

/** What the components report. Each `track…` returns the function that removes the probe. */
export interface OperationsMetrics {
  /** `vouch_response_cache_entries` and `_bytes{responder}`: the memory tier now. */
  trackResponseCache(responder: string, memory: { readonly count: number; readonly bytes: number }): () => void;
  /** `vouch_response_cache_evictions_total{responder}`: entries removed to make room. */
  readonly cacheEvictions: LazyCounter<"responder">;
  /** `vouch_redis_up{responder}`: 1 while the shared tier's connection is ready, else 0. */
  trackRedis(responder: string, up: () => boolean): () => void;
  /** `vouch_forwarding_circuit_state{responder,url,state}`: 1 for each URL's current state, 0 for the others. */
  trackCircuits(responder: string, circuits: () => Iterable<readonly [url: string, state: CircuitStateName]>): () => void;
  /** `vouch_billing_batches_total{responder,sink,result}`: group-commit batches made durable (`durable`) or not (`failed`). */
  readonly billingBatches: LazyCounter<"responder" | "sink" | "result">;
  /** `vouch_billing_records_total{responder,sink,result}`: the records in those batches. */
  readonly billingRecords: LazyCounter<"responder" | "sink" | "result">;
  /** `vouch_open_connections{listener}`: client connections open on a listener (`host:port`). */
  trackListener(listener: string, open: () => number): () => void;
}

/** Registers the operations metrics in `registry`. Never throws. */
export function operationsMetrics(registry: Registry): OperationsMetrics {
  const caches = new Set<{ responder: string; memory: { readonly count: number; readonly bytes: number } }>();
  const redis = new Set<{ responder: string; up: () => boolean }>();
  const circuits = new Set<{ responder: string; circuits: () => Iterable<readonly [string, CircuitStateName]> }>();
  const listeners = new Set<{ listener: string; open: () => number }>();
  const tracked =
    <T>(set: Set<T>) =>
    (entry: T) => {
      set.add(entry);
      return () => void set.delete(entry);
    };

  new Gauge({
    name: "vouch_response_cache_entries",
    help: "Responses held in the memory tier of a responder's response cache.",
    labelNames: ["responder"],
    registers: [registry],
    aggregator: "sum",
    collect() {
      this.reset();
      // During a reload two generations' caches are alive: both hold memory, so both count.
      for (const { responder, memory } of caches) this.inc({ responder }, memory.count);
    },
  });
  new Gauge({
    name: "vouch_response_cache_bytes",
    help: "Bytes accounted in the memory tier of a responder's response cache (bodies plus per-entry overhead).",
    labelNames: ["responder"],
    registers: [registry],
    aggregator: "sum",
    collect() {
      this.reset();
      for (const { responder, memory } of caches) this.inc({ responder }, memory.bytes);
    },
  });
  new Gauge({
    name: "vouch_redis_up",
    help: "1 while the connection to a responder's shared response cache (Redis) is ready, else 0 (answers then come from memory and local validation).",
    labelNames: ["responder"],
    registers: [registry],
    aggregator: "min",
    collect() {
      this.reset();
      const up = new Map<string, number>();
      for (const entry of redis) up.set(entry.responder, Math.min(up.get(entry.responder) ?? 1, entry.up() ? 1 : 0));
      for (const [responder, value] of up) this.set({ responder }, value);
    },
  });
  new Gauge({
    name: "vouch_forwarding_circuit_state",
    help: "Circuit breaker of each remote responder URL: 1 for its current state (closed, half-open, open), 0 for the others.",
    labelNames: ["responder", "url", "state"],
    registers: [registry],
    aggregator: "max",
    collect() {
      this.reset();
      for (const entry of circuits) {
        for (const [url, current] of entry.circuits()) {
          for (const state of CIRCUIT_STATES) this.set({ responder: entry.responder, url, state }, state === current ? 1 : 0);
        }
      }
    },
  });
  new Gauge({
    name: "vouch_open_connections",
    help: "Client connections open on each listener (host:port).",
    labelNames: ["listener"],
    registers: [registry],
    aggregator: "sum",
    collect() {
      this.reset();
      for (const { listener, open } of listeners) this.inc({ listener }, open());
    },
  });

  return {
    trackResponseCache: (responder, memory) => tracked(caches)({ responder, memory }),
    cacheEvictions: lazyCounter(registry, "vouch_response_cache_evictions_total", "Responses removed from the memory tier to make room for others (the expired one first, else the next to expire).", ["responder"]),
    trackRedis: (responder, up) => tracked(redis)({ responder, up }),
    trackCircuits: (responder, list) => tracked(circuits)({ responder, circuits: list }),
    billingBatches: lazyCounter(registry, "vouch_billing_batches_total", "Billing group-commit batches: durable (fsync'd or committed) or failed (their requests were answered tryLater).", [
      "responder",
      "sink",
      "result",
    ]),
    billingRecords: lazyCounter(registry, "vouch_billing_records_total", "Billing records in durable or failed batches.", ["responder", "sink", "result"]),
    trackListener: (listener, open) => tracked(listeners)({ listener, open }),
  };
}
