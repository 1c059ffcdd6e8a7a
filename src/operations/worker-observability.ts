/**
 * Metrics and readiness across worker processes (`vouch serve --workers N`), over any
 * request/answer channel between the supervisor and its workers (src/cli/worker-channel.ts's
 * `askWorkers(kind)` / `onSupervisorAsk(kind, handler)`): each worker answers with its own
 * registry as JSON and its own readiness report; the supervisor's admin listener serves them
 * combined. Worker threads (`--worker-threads`) share one process, so its process-wide figures are
 * taken once, from the supervisor's own registry (`processWide`). The functions here take the
 * channel as plain functions, so they do not depend on it.
 */
import { aggregateMetrics, type MetricsJson } from "../observability/aggregate.ts";
import { combineReadyReports, type ReadyReport } from "./readiness.ts";

/** prom-client's process-wide default metrics (CPU, memory, file descriptors, start time). */
const PROCESS_PREFIX = "process_";

/** The kinds of question the supervisor asks its workers. */
const METRICS_ASK = "metrics";
const READY_ASK = "ready";

/** What a worker's running service offers the supervisor's questions (compose/start-service.ts's Service has it). */
export interface ObservedService {
  readonly observability: { readonly metrics: { json(): Promise<unknown> }; ready(): Promise<ReadyReport> };
}

/**
 * Worker side: registers the answers to the supervisor's questions. `onAsk` is the channel's
 * `onSupervisorAsk`; `current` returns the service now running (it changes on reload).
 */
export function answerObservabilityAsks(onAsk: (kind: string, handler: () => Promise<unknown>) => void, current: () => ObservedService): void {
  onAsk(METRICS_ASK, () => current().observability.metrics.json());
  onAsk(READY_ASK, () => current().observability.ready());
}

/**
 * Supervisor side: what its admin listener serves (pass both to startAdminServer). `ask` is the
 * channel's `askWorkers`: one answer per live worker. Metrics reject when an answer is not a
 * registry's JSON (the admin listener then answers 500); readiness with no worker answering, or an
 * answer that is not a report, is not ready.
 */
export function workersObservability(
  ask: (kind: string) => Promise<unknown[]>,
  options: { readonly processWide?: () => Promise<MetricsJson>; readonly supervisor?: () => Promise<MetricsJson> } = {},
): { metrics: () => Promise<string>; ready: () => Promise<ReadyReport> } {
  const { processWide, supervisor } = options;
  return {
    async metrics() {
      const answers = await ask(METRICS_ASK);
      if (!answers.every((answer) => Array.isArray(answer))) throw new Error("a worker's metrics answer is not a registry's JSON");
      // The supervisor's own counters (reloads, worker restarts: supervision-metrics.ts), once.
      const own = supervisor === undefined ? [] : [(await supervisor()).filter((metric) => !metric.name.startsWith(PROCESS_PREFIX))];
      if (processWide === undefined) return aggregateMetrics([...(answers as MetricsJson[]), ...own]);
      // Worker threads share one process: each reports the whole process's CPU, memory and file
      // descriptors, which summed would count it once per thread. Those come from here, once.
      const perThread = (answers as MetricsJson[]).map((json) => json.filter((metric) => !metric.name.startsWith(PROCESS_PREFIX)));
      const wide = (await processWide()).filter((metric) => metric.name.startsWith(PROCESS_PREFIX));
      return aggregateMetrics([...perThread, wide, ...own]);
    },
    async ready() {
      const answers = await ask(READY_ASK);
      const reports = answers.filter(isReadyReport);
      const broken = answers.length - reports.length;
      const combined = combineReadyReports(reports);
      if (broken === 0) return combined;
      return { ready: false, issuers: [...combined.issuers, { responder: "", issuer: "", ready: false, problems: [`${broken} worker(s) gave no readiness report`] }] };
    },
  };
}

function isReadyReport(value: unknown): value is ReadyReport {
  if (typeof value !== "object" || value === null) return false;
  const report = value as { ready?: unknown; issuers?: unknown };
  return typeof report.ready === "boolean" && Array.isArray(report.issuers);
}
