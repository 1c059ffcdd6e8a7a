import assert from "node:assert/strict";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { ConfigError } from "../errors.ts";
import { groupCommit } from "./group-commit.ts";

/** Lets promise callbacks run (the timers themselves are mocked). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A flush the test completes by hand, recording each batch it was given. */
function manualFlush() {
  const batches: number[][] = [];
  const pending: { resolve(): void; reject(error: Error): void }[] = [];
  return {
    batches,
    flush: (batch: number[]) => {
      batches.push([...batch]);
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    },
    succeed: () => pending.shift()!.resolve(),
    fail: (error: Error) => pending.shift()!.reject(error),
  };
}

/** Follows a promise without awaiting it. */
function track(promise: Promise<void>) {
  const state: { settled: "pending" | "resolved" | "rejected"; error?: unknown } = { settled: "pending" };
  promise.then(
    () => (state.settled = "resolved"),
    (error: unknown) => Object.assign(state, { settled: "rejected", error }),
  );
  return state;
}

function mockTimers(t: TestContext) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  return t.mock.timers;
}

test("items added within the delay are flushed together, after the delay", async (t) => {
  const timers = mockTimers(t);
  const flush = manualFlush();
  const commit = groupCommit({ flush: flush.flush, maxDelayMs: 2 });
  const adds = [1, 2, 3].map((item) => track(commit.add(item)));
  timers.tick(1);
  assert.deepEqual(flush.batches, []);
  timers.tick(1);
  assert.deepEqual(flush.batches, [[1, 2, 3]]);
  await settle();
  assert.ok(adds.every((add) => add.settled === "pending"), "nothing resolves before the flush completes");
  flush.succeed();
  await settle();
  assert.ok(adds.every((add) => add.settled === "resolved"));
});

test("a full batch is flushed at once, without waiting for its delay", async (t) => {
  mockTimers(t);
  const flush = manualFlush();
  const commit = groupCommit({ flush: flush.flush, maxDelayMs: 1_000, maxBatch: 3 });
  for (const item of [1, 2, 3, 4]) void commit.add(item).catch(() => {});
  assert.deepEqual(flush.batches, [[1, 2, 3]]);
});

test("one flush runs at a time; items arriving during it form the next batch", async (t) => {
  const timers = mockTimers(t);
  const flush = manualFlush();
  const commit = groupCommit({ flush: flush.flush, maxDelayMs: 2 });
  const first = track(commit.add(1));
  timers.tick(2);
  const later = [2, 3].map((item) => track(commit.add(item)));
  timers.tick(10);
  assert.deepEqual(flush.batches, [[1]], "the second batch waits for the first flush");
  flush.succeed();
  await settle();
  assert.equal(first.settled, "resolved");
  assert.deepEqual(flush.batches, [[1], [2, 3]], "an overdue batch goes as soon as the flush ahead of it is done");
  assert.ok(later.every((add) => add.settled === "pending"));
  flush.succeed();
  await settle();
  assert.ok(later.every((add) => add.settled === "resolved"));
});

test("a failed flush rejects every item of its batch and only those", async (t) => {
  const timers = mockTimers(t);
  const flush = manualFlush();
  const commit = groupCommit({ flush: flush.flush, maxDelayMs: 2 });
  const failing = [1, 2].map((item) => track(commit.add(item)));
  timers.tick(2);
  const next = track(commit.add(3));
  flush.fail(new Error("disk full"));
  await settle();
  assert.ok(failing.every((add) => add.settled === "rejected" && (add.error as Error).message === "disk full"));
  assert.equal(next.settled, "pending");
  timers.tick(2);
  flush.succeed();
  await settle();
  assert.equal(next.settled, "resolved", "the commit carries on after a failure");
});

test("a flush that throws instead of rejecting fails its batch the same way", async (t) => {
  const timers = mockTimers(t);
  const commit = groupCommit<number>({
    flush: () => {
      throw new Error("no handle");
    },
  });
  const add = track(commit.add(1));
  timers.tick(2);
  await settle();
  assert.equal(add.settled, "rejected");
  assert.equal((add.error as Error).message, "no handle");
});

test("close flushes what is pending without waiting for the delay, then add rejects", async (t) => {
  mockTimers(t);
  const flushed: number[][] = [];
  const commit = groupCommit({ flush: async (batch: number[]) => void flushed.push([...batch]), maxDelayMs: 60_000 });
  const adds = [1, 2].map((item) => commit.add(item));
  await commit.close();
  await Promise.all(adds);
  assert.deepEqual(flushed, [[1, 2]]);
  await assert.rejects(commit.add(3), /closed/);
  assert.equal(commit.close(), commit.close(), "close is idempotent");
});

test("close waits for the flush in flight and the batches queued behind it", async (t) => {
  const timers = mockTimers(t);
  const flush = manualFlush();
  const commit = groupCommit({ flush: flush.flush, maxDelayMs: 2 });
  void commit.add(1);
  timers.tick(2);
  void commit.add(2);
  const closing = track(commit.close());
  await settle();
  assert.equal(closing.settled, "pending");
  flush.succeed();
  await settle();
  assert.deepEqual(flush.batches, [[1], [2]]);
  assert.equal(closing.settled, "pending");
  flush.succeed();
  await settle();
  assert.equal(closing.settled, "resolved");
});

test("groupCommit refuses impossible options with ConfigError naming the field", () => {
  const flush = async () => {};
  assert.throws(() => groupCommit({ flush, maxBatch: 0 }), (error: unknown) => error instanceof ConfigError && error.field === "maxBatch");
  assert.throws(() => groupCommit({ flush, maxBatch: 1.5 }), (error: unknown) => error instanceof ConfigError && error.field === "maxBatch");
  assert.throws(() => groupCommit({ flush, maxDelayMs: -1 }), (error: unknown) => error instanceof ConfigError && error.field === "maxDelayMs");
});
