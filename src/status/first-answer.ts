/**
 * Several sources for one responder (e.g. an index source per CA, or a CRL source behind a
 * database source): the first source that serves a CertID's issuer answers for it.
 */
import { isPromise, type Awaitable } from "../awaitable.ts";
import type { CertId } from "../ocsp/types.ts";
import type { SourceFreshness, StatusAnswer, StatusSource } from "./status-source.ts";

/**
 * A source that asks `sources` in order and returns the first answer that is not `undefined`
 * (`undefined` when none serves the issuer). Errors are not skipped: a source that serves the
 * issuer and throws (e.g. TryLaterError) has given the answer, so the error propagates.
 * `close` closes every source, even when some fail, then rejects with the first failure.
 *
 * `freshness` (present when some source has it) is the most conservative view of the sources that
 * report one, since any of them may be the one answering: `undefined` when one of them has no data,
 * else the oldest `loadedAt`, the earliest `nextUpdate` and every source's `problem`.
 */
export function firstAnswer(sources: readonly StatusSource[]): StatusSource {
  const list = [...sources];
  const reporting = list.filter((source) => source.freshness !== undefined);
  const freshness = (): SourceFreshness | undefined => {
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
  };
  return {
    ...(reporting.length === 0 ? {} : { freshness }),
    status(id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> {
      return askFrom(list, 0, id, signal);
    },
    ...(list.some((source) => source.serials !== undefined) ? { serials: () => unionOfSerials(list) } : {}),
    async close(): Promise<void> {
      const results = await Promise.allSettled(list.map((source) => source.close()));
      const failed = results.find((result) => result.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    },
  };
}

/**
 * The first answer of `sources[from..]`, without a promise while the sources answer at once: a
 * source that returns a promise is waited for, and the rest are asked after it.
 */
function askFrom(sources: readonly StatusSource[], from: number, id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> {
  for (let index = from; index < sources.length; index++) {
    const answer = sources[index]!.status(id, signal);
    if (isPromise(answer)) return answer.then((settled) => settled ?? askFrom(sources, index + 1, id, signal));
    if (answer !== undefined) return answer;
  }
  return undefined;
}

/** Every serial any source lists, each once (sources for one issuer may overlap). */
function* unionOfSerials(sources: readonly StatusSource[]): Iterable<Buffer> {
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
