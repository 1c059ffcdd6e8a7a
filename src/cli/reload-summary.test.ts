import assert from "node:assert/strict";
import { test } from "node:test";
import { reloadSummaryMessage, singleReloadSummary, workersReloadSummary } from "./reload-summary.ts";

const ok = { ok: true } as const;
const refused = (error: string) => ({ ok: false, error }) as const;

test("every worker applied it: applied", () => {
  const summary = workersReloadSummary(2, [ok, ok], 600_000);
  assert.deepEqual(summary, { result: "applied", workers: { applied: 2, refused: 0, silent: 0 } });
  assert.equal(reloadSummaryMessage(summary), "workers reloaded");
});

test("some applied it, one refused and one was silent: partial, with the refusal's reason", () => {
  const summary = workersReloadSummary(3, [ok, refused("vouch.yaml: x: bad")], 600_000);
  assert.deepEqual(summary, { result: "partial", error: "vouch.yaml: x: bad", workers: { applied: 1, refused: 1, silent: 1 } });
  assert.equal(reloadSummaryMessage(summary), "reload applied by 1 of 3 workers, the others keep the running configuration: vouch.yaml: x: bad");
});

test("none applied it: refused, whether they said no or said nothing", () => {
  assert.deepEqual(workersReloadSummary(2, [refused("a"), refused("b")], 600_000), { result: "refused", error: "a", workers: { applied: 0, refused: 2, silent: 0 } });
  const silent = workersReloadSummary(2, [], 600_000);
  assert.deepEqual(silent, { result: "refused", error: "2 worker(s) gave no answer within 600 s", workers: { applied: 0, refused: 0, silent: 2 } });
  assert.equal(reloadSummaryMessage(silent), "reload refused, the running configuration stays: 2 worker(s) gave no answer within 600 s");
  assert.equal(workersReloadSummary(0, [], 600_000).result, "refused", "no worker running is no worker that applied it");
});

test("one process: its own outcome", () => {
  assert.deepEqual(singleReloadSummary(ok), { result: "applied" });
  assert.equal(reloadSummaryMessage(singleReloadSummary(ok)), "reloaded");
  assert.deepEqual(singleReloadSummary(refused("why")), { result: "refused", error: "why" });
});
