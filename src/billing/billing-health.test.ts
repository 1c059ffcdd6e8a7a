import assert from "node:assert/strict";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { billingHealth } from "./billing-health.ts";

/** A probe that fails while `broken.reason` is set, counting its runs. */
function probe() {
  const state = { reason: undefined as string | undefined, runs: 0 };
  const run = async () => {
    state.runs++;
    if (state.reason !== undefined) throw new Error(state.reason);
  };
  return { state, run };
}

test("the newer evidence wins: a failed batch fails it until a later probe or batch succeeds", async () => {
  const clock = fixedClock("2026-12-01T00:00:00Z");
  const { state, run } = probe();
  const health = billingHealth(run, clock, 1000);
  assert.equal(await health.problem(), undefined);
  clock.advance(10);
  health.batch(new Error("relation \"vouch_billing\" does not exist"));
  assert.equal(await health.problem(), 'billing batch failed: relation "vouch_billing" does not exist', "the probe of a moment ago is older than the failure");
  clock.advance(1000);
  assert.equal(await health.problem(), undefined, "a new probe after the failure succeeds: the sink recovered");
  clock.advance(10);
  health.batch();
  state.reason = "EPERM: operation not permitted";
  clock.advance(1000);
  assert.equal(await health.problem(), "billing sink cannot write: EPERM: operation not permitted", "an idle sink that breaks is seen by the probe");
  assert.equal(state.runs, 3);
});

test("checks within the reuse interval share one probe", async () => {
  const clock = fixedClock("2026-12-01T00:00:00Z");
  const { state, run } = probe();
  const health = billingHealth(run, clock, 1000);
  await Promise.all([health.problem(), health.problem(), health.problem()]);
  clock.advance(999);
  await health.problem();
  assert.equal(state.runs, 1);
});
