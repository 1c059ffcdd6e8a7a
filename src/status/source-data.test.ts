import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { guardStale } from "./guard-stale.ts";
import { sourceData } from "./source-data.ts";
import type { OpenedSource } from "./status-source.ts";

/** An opened source that answers nothing and records its closing. */
function recording(name: string, log: string[], closeError?: Error): OpenedSource {
  return {
    async status() {
      return undefined;
    },
    async close() {
      log.push(`close ${name}`);
      if (closeError !== undefined) throw closeError;
    },
  };
}

describe("sourceData close", () => {
  test("closes every source even when one fails to close, then reports the failure", async () => {
    const log: string[] = [];
    const failure = new Error("stuck");
    const data = sourceData([recording("a", log, failure), recording("b", log)]);
    await assert.rejects(data.close(), (error: unknown) => error === failure);
    assert.deepEqual(log.sort(), ["close a", "close b"]);
  });

  test("closes the source whose answers go through the stale-data guard (the guard is only its answers)", async () => {
    const log: string[] = [];
    const opened = recording("guarded", log);
    guardStale(opened, fixedClock(0));
    await sourceData([opened]).close();
    assert.deepEqual(log, ["close guarded"]);
  });
});

describe("sourceData freshness", () => {
  const reporting = (fresh: { loadedAt: number; nextUpdate?: number } | undefined): OpenedSource => ({ ...recording("f", []), freshness: () => fresh });

  test("is left out when no source reports freshness (live data)", () => {
    assert.equal(sourceData([recording("a", [])]).freshness, undefined);
  });

  test("is the oldest load and the earliest nextUpdate of the sources that report one", () => {
    const data = sourceData([reporting({ loadedAt: 50, nextUpdate: 900 }), recording("live", []), reporting({ loadedAt: 20 }), reporting({ loadedAt: 70, nextUpdate: 400 })]);
    assert.deepEqual(data.freshness!(), { loadedAt: 20, nextUpdate: 400 });
  });

  test("is undefined when any reporting source has no data", () => {
    assert.equal(sourceData([reporting({ loadedAt: 50 }), reporting(undefined)]).freshness!(), undefined);
  });

  test("is the freshness of a source whose answers go through the stale-data guard, and none when it has none", () => {
    const clock = fixedClock("2025-03-10T00:00:00Z");
    const live = recording("live", []);
    guardStale(live, clock);
    assert.equal(sourceData([live]).freshness, undefined);
    const loaded: OpenedSource = { ...live, freshness: () => ({ loadedAt: 5, nextUpdate: 9 }) };
    guardStale(loaded, clock);
    assert.deepEqual(sourceData([loaded]).freshness!(), { loadedAt: 5, nextUpdate: 9 });
  });
});
