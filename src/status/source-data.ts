/**
 * What an issuer's revocation data offers besides its answers, over all of its sources: how current
 * it is, the serials it lists, and closing it. It sits beside the layered answers (firstAnswer over
 * guardStale over each source), taken from the opened sources themselves, so that no layer has to
 * pass these on (a layer that forgot one would have turned it off without a word).
 */
import type { StatusChangeFeed } from "./change-events.ts";
import type { OpenedSource, SourceFreshness } from "./status-source.ts";

/** One issuer's revocation data. */
export interface SourceData {
  /**
   * Present when some source reports freshness: the most conservative view of the sources that
   * report one, since any of them may be the one answering: `undefined` when one of them has no
   * data, else the oldest `loadedAt`, the earliest `nextUpdate` and every source's `problem`.
   */
  freshness?(): SourceFreshness | undefined;
  /** Present when some source lists serials: every serial any of them lists, each once. */
  serials?(): Iterable<Buffer>;
  /** The changes every source publishes (change-events.ts). */
  readonly changes: StatusChangeFeed;
  /**
   * Asks every source that can to look for changes now (another instance reported one for
   * `serials`); resolves once they have. build-issuer.ts also holds the issuer's answers for those
   * serials until then (recheck.ts).
   */
  lookNow(serials?: readonly Buffer[] | "everything"): Promise<void>;
  /** Closes every source, even when some fail, then rejects with the first failure. */
  close(): Promise<void>;
}

/** The data of the issuer whose sources are `sources`. */
export function sourceData(sources: readonly OpenedSource[]): SourceData {
  const list = [...sources];
  const reporting = list.filter((source) => source.freshness !== undefined);
  return {
    ...(reporting.length === 0 ? {} : { freshness: () => oldestFreshness(reporting) }),
    ...(list.some((source) => source.serials !== undefined) ? { serials: () => unionOfSerials(list) } : {}),
    changes: {
      subscribe(listener) {
        const stops = list.map((source) => source.changes?.subscribe(listener));
        return () => {
          for (const stop of stops) stop?.();
        };
      },
      beforeAnswering(gate) {
        const stops = list.map((source) => source.changes?.beforeAnswering?.(gate));
        return () => {
          for (const stop of stops) stop?.();
        };
      },
    },
    async lookNow() {
      await Promise.all(list.map((source) => source.lookNow?.()));
    },
    async close(): Promise<void> {
      const results = await Promise.allSettled(list.map((source) => source.close()));
      const failed = results.find((result) => result.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    },
  };
}

function oldestFreshness(reporting: readonly OpenedSource[]): SourceFreshness | undefined {
  let loadedAt = Infinity;
  let nextUpdate: number | undefined;
  let problem: string | undefined;
  for (const source of reporting) {
    const fresh = source.freshness!();
    if (fresh === undefined) return undefined;
    loadedAt = Math.min(loadedAt, fresh.loadedAt);
    if (fresh.nextUpdate !== undefined) nextUpdate = Math.min(nextUpdate ?? Infinity, fresh.nextUpdate);
    if (fresh.problem !== undefined) problem = problem === undefined ? fresh.problem : `${problem}; ${fresh.problem}`;
  }
  return { loadedAt, ...(nextUpdate === undefined ? {} : { nextUpdate }), ...(problem === undefined ? {} : { problem }) };
}

/** Every serial any source lists, each once (sources for one issuer may overlap). */
function* unionOfSerials(sources: readonly OpenedSource[]): Iterable<Buffer> {
  const seen = new Set<string>();
  for (const source of sources) {
    for (const serial of source.serials?.() ?? []) {
      const key = serial.toString("hex");
      if (seen.has(key)) continue;
      seen.add(key);
      yield serial;
    }
  }
}
