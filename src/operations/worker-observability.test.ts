import assert from "node:assert/strict";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import type { Service } from "../compose/start-service.ts";
import { parseSamples, sampleValue } from "../../test/support/prometheus.ts";
import { createMetrics } from "../observability/metrics.ts";
import type { ReadyReport } from "./readiness.ts";
import { answerObservabilityAsks, workersObservability } from "./worker-observability.ts";

const clock = fixedClock("2030-01-01T00:00:00Z");

/** A worker: a real registry with `requests` counted, and a fixed readiness verdict. */
function worker(requests: number, report: ReadyReport): Map<string, () => Promise<unknown>> {
  const metrics = createMetrics({ clock, processMetrics: false });
  const counter = metrics.requests.child({ responder: "r", type: "basic", method: "GET", outcome: "local", status: "successful", code: "200" });
  for (let i = 0; i < requests; i++) counter.inc();
  const service = { listeners: [], observability: { metrics, ready: async () => report }, reload: async () => {}, purge: async () => ({ memory: 0, redisFailed: 0, responders: [] }), holdChanged: () => 0, close: async () => {} } satisfies Service;
  const handlers = new Map<string, () => Promise<unknown>>();
  answerObservabilityAsks((kind, handler) => handlers.set(kind, handler), () => service);
  return handlers;
}

/** The channel, in process: asks every worker, through a JSON round trip as over IPC. */
const channel = (workers: Map<string, () => Promise<unknown>>[]) => async (kind: string) =>
  Promise.all(workers.map(async (handlers) => JSON.parse(JSON.stringify(await handlers.get(kind)!())) as unknown));

const READY: ReadyReport = { ready: true, issuers: [{ responder: "r", issuer: "CN=CA", ready: true, problems: [] }] };
const STALE: ReadyReport = { ready: false, issuers: [{ responder: "r", issuer: "CN=CA", ready: false, problems: ["no revocation data loaded"] }] };

test("the supervisor serves its workers' metrics summed and their readiness combined", async () => {
  const combined = workersObservability(channel([worker(2, READY), worker(5, STALE)]));
  assert.equal(sampleValue(parseSamples(await combined.metrics()), "vouch_requests_total", { method: "GET" }), 7);
  assert.deepEqual(await combined.ready(), STALE);
  assert.deepEqual(await workersObservability(channel([worker(1, READY), worker(1, READY)])).ready(), READY);
});

test("a worker answering nonsense: metrics reject, readiness is not ready and says so", async () => {
  const combined = workersObservability(async () => [42]);
  await assert.rejects(combined.metrics(), /not a registry's JSON/);
  const report = await combined.ready();
  assert.equal(report.ready, false);
  assert.match(report.issuers[0]!.problems[0]!, /1 worker\(s\) gave no readiness report/);
});
