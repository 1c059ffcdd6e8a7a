import assert from "node:assert/strict";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { parseSamples, sampleValue } from "../../test/support/prometheus.ts";
import { aggregateMetrics } from "./aggregate.ts";
import { createMetrics, type VouchMetrics } from "./metrics.ts";

const clock = fixedClock("2030-01-01T00:00:00Z");

/** One worker's registry with `requests` answered requests, `ageSeconds` old data and the given readiness. */
function worker(requests: number, ageSeconds: number, ready: boolean): VouchMetrics {
  const metrics = createMetrics({ clock, processMetrics: false });
  const counter = metrics.requests.child({ responder: "r", type: "basic", method: "POST", outcome: "local", status: "successful", code: "200" });
  for (let i = 0; i < requests; i++) counter.inc();
  metrics.requestDuration.labels({ responder: "r" }).observe(0.002);
  metrics.trackFreshness({ labels: { responder: "r", issuer: "CN=CA", source: "crl" }, freshness: () => ({ loadedAt: clock.now() - ageSeconds * 1000, nextUpdate: clock.now() + ageSeconds * 1000 }) });
  metrics.trackReadiness(async () => ({ issuers: [{ responder: "r", issuer: "CN=CA", ready }] }));
  return metrics;
}

test("aggregating workers sums counters and histograms; data age takes the oldest, time to nextUpdate the soonest, readiness the worst", async () => {
  const text = await aggregateMetrics(await Promise.all([worker(3, 10, true), worker(4, 50, false)].map((metrics) => metrics.json())));
  const samples = parseSamples(text);
  assert.equal(sampleValue(samples, "vouch_requests_total", { responder: "r", status: "successful" }), 7);
  assert.equal(sampleValue(samples, "vouch_request_duration_seconds_count", { responder: "r" }), 2);
  assert.equal(sampleValue(samples, "vouch_source_data_age_seconds", { source: "crl" }), 50);
  assert.equal(sampleValue(samples, "vouch_source_next_update_seconds", { source: "crl" }), 10);
  assert.equal(sampleValue(samples, "vouch_issuer_ready", { issuer: "CN=CA" }), 0);
});
