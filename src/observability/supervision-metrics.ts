/**
 * Metrics of the process the operator started, rather than of one responder: reload outcomes and,
 * with a supervisor, worker restarts. With one worker they sit in that process's registry; with
 * several, in the supervisor's own registry, which its admin listener adds to the workers'
 * (worker-observability.ts), so that each is counted once whatever the number of workers.
 */
import { Counter, type Registry } from "./prom-client.ts";

/** The outcomes a reload can have (cli/reload-summary.ts). */
const RELOAD_RESULTS = ["applied", "refused", "partial"] as const;

/** `vouch_reloads_total{result}`: registers it (every result at 0) and returns its increment. */
export function reloadCounter(registry: Registry): (result: (typeof RELOAD_RESULTS)[number]) => void {
  const counter = new Counter({
    name: "vouch_reloads_total",
    help: "Configuration reloads (SIGHUP, vouch reload) by result: applied by every worker, refused (the running configuration stays), or partial (some workers refused).",
    labelNames: ["result"],
    registers: [registry],
  });
  for (const result of RELOAD_RESULTS) counter.inc({ result }, 0);
  return (result) => counter.inc({ result });
}

/** `vouch_worker_restarts_total`: registers it at 0 and returns its increment. */
export function workerRestartCounter(registry: Registry): () => void {
  const counter = new Counter({
    name: "vouch_worker_restarts_total",
    help: "Workers that exited and were replaced by the supervisor (a crash, a kill, an out-of-memory end).",
    registers: [registry],
  });
  counter.inc(0);
  return () => counter.inc();
}
