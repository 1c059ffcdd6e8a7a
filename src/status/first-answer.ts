/**
 * Several sources for one responder (e.g. an index source per CA, or a CRL source behind a
 * database source): the first source that serves a CertID's issuer answers for it.
 */
import { isPromise, type Awaitable } from "../awaitable.ts";
import type { CertId } from "../ocsp/types.ts";
import type { StatusAnswer, StatusSource } from "./status-source.ts";

/**
 * A source that asks `sources` in order and returns the first answer that is not `undefined`
 * (`undefined` when none serves the issuer). Errors are not skipped: a source that serves the
 * issuer and throws (e.g. TryLaterError) has given the answer, so the error propagates.
 * (Freshness, serials and closing are the issuer's data: source-data.ts.)
 */
export function firstAnswer(sources: readonly StatusSource[]): StatusSource {
  const list = [...sources];
  return {
    status(id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> {
      return askFrom(list, 0, id, signal);
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
