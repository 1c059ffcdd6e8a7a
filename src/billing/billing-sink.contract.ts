import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { systemClock } from "../clock.ts";
import type { BillingRecord, BillingSink } from "./billing-sink.ts";
import { contractRecord, contractRecordId } from "./test-support/contract-records.ts";

export { contractRecord, contractRecordId };

/** What the contract asks of a sink's test file when it builds a sink. */
export interface ContractBuildOptions {
  /** Unique per test (lower-case letters, digits, '_'): a folder name, a table suffix. */
  readonly place: string;
  /** Build a working sink, then break its storage (a folder replaced by a file, a proxy stopped). */
  readonly failing: boolean;
  /** To pass to the sink: counts flushes. */
  readonly onFlush: (records: number) => void;
  /** To pass to the sink. */
  readonly maxDelayMs: number;
}

/** Builds a sink storing at `place`. */
export type ContractBuild = (options: ContractBuildOptions) => Promise<BillingSink>;
/** Every record stored at `place`, in any order, read from the storage itself (not from the sink). */
export type ContractReadBack = (place: string) => Promise<BillingRecord[]>;

let places = 0;

function nextPlace(): string {
  places += 1;
  return `p${process.pid}_${places}`;
}

/** Rejects with "bound exceeded" if `promise` is still pending after `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`bound of ${ms} ms exceeded`)), ms)));
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The behaviours every BillingSink must have, run by each sink's test file: all concurrent writes
 * land exactly once with their fields, a write resolves only when its record is in storage, flushes
 * are grouped, a broken store rejects writes promptly (the request then gets tryLater), and close
 * flushes what is pending.
 */
export function billingSinkContract(name: string, build: ContractBuild, readBack: ContractReadBack): void {
  describe(`${name} (BillingSink contract)`, () => {
    test("2,000 concurrent writes store exactly 2,000 records with their fields, in fewer flushes", async (t) => {
      const place = nextPlace();
      const flushes: number[] = [];
      const sink = await build({ place, failing: false, onFlush: (records) => flushes.push(records), maxDelayMs: 2 });
      const count = 2_000;
      const expected = Array.from({ length: count }, (_, id) => contractRecord(id));
      const started = systemClock.now();
      await Promise.all(expected.map((record) => sink.write(record)));
      const elapsed = systemClock.now() - started;
      await sink.close();
      const stored = (await readBack(place)).sort((a, b) => contractRecordId(a) - contractRecordId(b));
      assert.equal(stored.length, count);
      assert.deepEqual(stored, expected);
      assert.equal(flushes.reduce((sum, size) => sum + size, 0), count);
      assert.ok(flushes.length < count / 10, `group commit should group: ${flushes.length} flushes for ${count} records`);
      t.diagnostic(`${flushes.length} flushes, batch sizes ${Math.min(...flushes)}..${Math.max(...flushes)}, ${Math.round((count / Math.max(elapsed, 1)) * 1000)} records/s`);
    });

    test("a write resolves only once its record can be read back from storage", async () => {
      const place = nextPlace();
      const sink = await build({ place, failing: false, onFlush: () => {}, maxDelayMs: 2 });
      const checks = Array.from({ length: 40 }, async (_, id) => {
        await sink.write(contractRecord(id));
        const stored = await readBack(place);
        assert.ok(stored.some((record) => contractRecordId(record) === id), `record ${id} not readable after its write resolved`);
      });
      await Promise.all(checks);
      await sink.close();
    });

    test("a sink whose storage fails rejects writes with an Error, promptly, and keeps rejecting", async () => {
      const sink = await build({ place: nextPlace(), failing: true, onFlush: () => {}, maxDelayMs: 2 });
      const started = systemClock.now();
      const writes = [0, 1, 2].map((id) => within(10_000, sink.write(contractRecord(id))));
      for (const write of writes) {
        await assert.rejects(write, (error: unknown) => error instanceof Error && !/bound of/.test(error.message));
      }
      assert.ok(systemClock.now() - started < 5_000, "rejected within the statement bound");
      await assert.rejects(within(10_000, sink.write(contractRecord(3))), (error: unknown) => error instanceof Error && !/bound of/.test(error.message));
      await within(10_000, sink.close());
    });

    test("close flushes pending writes at once, then refuses new ones", async () => {
      const place = nextPlace();
      // A delay far longer than the test bound: only close can flush these in time.
      const sink = await build({ place, failing: false, onFlush: () => {}, maxDelayMs: 60_000 });
      const writes = Array.from({ length: 10 }, (_, id) => sink.write(contractRecord(id)));
      await within(5_000, sink.close());
      await within(1_000, Promise.all(writes));
      assert.equal((await readBack(place)).length, 10);
      await assert.rejects(sink.write(contractRecord(10)), Error);
    });

    test("a record that cannot be stored is refused alone; its batch is stored", async () => {
      const place = nextPlace();
      const sink = await build({ place, failing: false, onFlush: () => {}, maxDelayMs: 2 });
      const bad = { ...contractRecord(1), time: new Date(Number.NaN) };
      const results = await Promise.allSettled([sink.write(contractRecord(0)), sink.write(bad), sink.write(contractRecord(2))]);
      assert.deepEqual(
        results.map((result) => result.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
      await sink.close();
      assert.deepEqual((await readBack(place)).map(contractRecordId).sort(), [0, 2]);
    });
  });
}
