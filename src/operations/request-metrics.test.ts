import assert from "node:assert/strict";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { parseSamples, sampleValue } from "../../test/support/prometheus.ts";
import { createMetrics } from "../observability/metrics.ts";
import { requestObserver } from "./request-metrics.ts";

const clock = fixedClock("2030-01-01T00:00:00Z");

test("the request observer binds its labels once and counts per method, outcome, status and HTTP code", async () => {
  const metrics = createMetrics({ clock, processMetrics: false });
  const observer = requestObserver(metrics, "r", "cached");
  observer.refused("PUT", 405);
  observer.refused("POST", 413);
  const samples = parseSamples(await metrics.text()).filter((sample) => sample.name === "vouch_requests_total");
  assert.equal(sampleValue(samples, "vouch_requests_total", { method: "other", outcome: "rejected", status: "none", code: "405", type: "cached" }), 1);
  assert.equal(sampleValue(samples, "vouch_requests_total", { method: "POST", outcome: "rejected", code: "413" }), 1);
  assert.equal(sampleValue(samples, "vouch_requests_total", { method: "GET", outcome: "local", status: "successful", code: "200" }), 0);
});
