import assert from "node:assert/strict";
import test from "node:test";
import { Histogram, Registry } from "prom-client";
import { lazyHistogram } from "./lazy-histogram.ts";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const VALUES = [0.0005, 0.001, 0.002, 0.05, 0.05, 0.3, 2, 7, 0.01];

test("a lazy histogram exports exactly what prom-client's Histogram exports for the same observations", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const lazy = lazyHistogram(ours, { name: "x_seconds", help: "h", labelNames: ["responder"], buckets: BUCKETS });
  const reference = new Histogram({ name: "x_seconds", help: "h", labelNames: ["responder"], buckets: BUCKETS, registers: [theirs] });
  for (const [i, value] of VALUES.entries()) {
    const responder = i % 3 === 0 ? "a" : "b";
    lazy.labels({ responder }).observe(value);
    reference.labels({ responder }).observe(value);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  // The JSON form is what the supervisor aggregates; prom-client adds empty exemplar fields.
  const withoutExemplars = JSON.parse(JSON.stringify(await theirs.getMetricsAsJSON(), (key, value) => (key === "exemplar" ? undefined : value)));
  assert.deepEqual(JSON.parse(JSON.stringify(await ours.getMetricsAsJSON())), withoutExemplars);
});

test("reset zeroes every series but keeps it exported", async () => {
  const registry = new Registry();
  const lazy = lazyHistogram(registry, { name: "y_seconds", help: "h", labelNames: ["responder"], buckets: BUCKETS });
  lazy.labels({ responder: "a" }).observe(0.5);
  registry.resetMetrics();
  const text = await registry.metrics();
  assert.match(text, /y_seconds_count\{responder="a"\} 0/);
  assert.match(text, /y_seconds_bucket\{le="\+Inf",responder="a"\} 0/);
});
