import assert from "node:assert/strict";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { logSampler } from "./log-sampler.ts";

test("logSampler admits perSecond lines a second and reports how many it dropped", () => {
  const clock = fixedClock("2026-01-01T00:00:00Z");
  const sampler = logSampler(2, clock);
  assert.deepEqual([sampler.admit(), sampler.admit(), sampler.admit(), sampler.admit()], [0, 0, undefined, undefined]);
  clock.advance(1000);
  assert.equal(sampler.admit(), 2, "the first line of the next second says two were dropped");
  assert.equal(sampler.admit(), 0);
});
