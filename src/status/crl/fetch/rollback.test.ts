import assert from "node:assert/strict";
import { test } from "node:test";
import { rollbackProblem, type CrlVersion } from "./rollback.ts";
import { nextRegularFetch, retryDelay } from "./fetch-schedule.ts";

const held: CrlVersion = { crlNumber: 5n, thisUpdate: Date.UTC(2026, 0, 2), sha256: "held" };

test("rollback: what may replace the held CRL", () => {
  const cases: [string, CrlVersion | undefined, CrlVersion, RegExp | undefined][] = [
    ["nothing held", undefined, { crlNumber: 1n, thisUpdate: 0, sha256: "a" }, undefined],
    ["the same bytes", held, { ...held }, undefined],
    ["a higher number, a later thisUpdate", held, { crlNumber: 6n, thisUpdate: held.thisUpdate + 1, sha256: "b" }, undefined],
    ["a lower number", held, { crlNumber: 4n, thisUpdate: held.thisUpdate + 1, sha256: "b" }, /cRLNumber 4 is lower than the held CRL's 5/],
    ["the same number, other bytes", held, { crlNumber: 5n, thisUpdate: held.thisUpdate, sha256: "b" }, /cRLNumber 5 is the held CRL's, with different content/],
    ["a higher number, an older thisUpdate", held, { crlNumber: 6n, thisUpdate: held.thisUpdate - 1, sha256: "b" }, /thisUpdate .* is older/],
    ["no numbers, an older thisUpdate", { ...held, crlNumber: undefined }, { crlNumber: undefined, thisUpdate: held.thisUpdate - 1, sha256: "b" }, /older/],
    ["no numbers, the same thisUpdate, other bytes", { ...held, crlNumber: undefined }, { crlNumber: undefined, thisUpdate: held.thisUpdate, sha256: "b" }, /with different content/],
    ["no numbers, a later thisUpdate", { ...held, crlNumber: undefined }, { crlNumber: undefined, thisUpdate: held.thisUpdate + 1, sha256: "b" }, undefined],
  ];
  for (const [name, before, offered, problem] of cases) {
    const found = rollbackProblem(before, offered);
    if (problem === undefined) assert.equal(found, undefined, name);
    else assert.match(found ?? "", problem, name);
  }
});

test("schedule: margin before nextUpdate, at most maxInterval, backoff with jitter when inside the margin or failing", () => {
  const schedule = { marginMs: 60_000, maxIntervalMs: 3_600_000, retryFirstMs: 1_000, retryMaxMs: 8_000 };
  assert.equal(nextRegularFetch(0, undefined, schedule), 3_600_000);
  assert.equal(nextRegularFetch(0, 600_000, schedule), 540_000);
  assert.equal(nextRegularFetch(0, 10_000_000, schedule), 3_600_000);
  assert.equal(nextRegularFetch(0, 30_000, schedule), undefined);
  assert.deepEqual([1, 2, 3, 4, 5, 50].map((attempt) => retryDelay(attempt, schedule, () => 1)), [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  assert.deepEqual([1, 2, 3, 4].map((attempt) => retryDelay(attempt, schedule, () => 0)), [500, 1_000, 2_000, 4_000]);
});
