/**
 * SPEC: "Data past its nextUpdate never answers good." A layer over any source that turns stale
 * answers into tryLater, except a permanent revocation, which stays true however old the data.
 */
import { isPromise, type Awaitable } from "../awaitable.ts";
import type { Clock } from "../clock.ts";
import { TryLaterError } from "../errors.ts";
import type { CertId } from "../ocsp/types.ts";
import type { StatusAnswer, StatusSource } from "./status-source.ts";

/**
 * Wraps `inner`. An answer whose nextUpdate is at or before the clock's now (data is valid for
 * thisUpdate ≤ now < nextUpdate) is stale:
 * - good, unknown, not-issued → throws TryLaterError (the data can no longer vouch for it);
 * - revoked with certificateHold → throws TryLaterError (a hold can be released);
 * - revoked for any other reason (or none) → passed through with nextUpdate cleared, because the
 *   revocation is permanent but the stale nextUpdate must not be promised to the client.
 * Answers without nextUpdate, fresh answers and `undefined` pass unchanged; errors from `inner`
 * propagate.
 */
export function guardStale(inner: StatusSource, clock: Clock): StatusSource {
  const guard = (answer: StatusAnswer | undefined): StatusAnswer | undefined => {
    if (answer?.nextUpdate === undefined) return answer;
    const now = clock.now();
    const nextUpdate = answer.nextUpdate.getTime();
    if (now < nextUpdate) return answer;
    if (answer.kind === "revoked" && answer.reason !== "certificateHold") return { ...answer, nextUpdate: undefined };
    throw new TryLaterError(`status data is stale: its nextUpdate ${answer.nextUpdate.toISOString()} has passed`);
  };
  return {
    status(id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> {
      const answer = inner.status(id, signal);
      return isPromise(answer) ? answer.then(guard) : guard(answer);
    },
  };
}
