/**
 * When a fetched CRL is looked at again. A CA publishes its next CRL before the current one's
 * nextUpdate, so the fetch comes `margin` before it; `maxInterval` bounds the wait anyway (a CA may
 * publish early, e.g. after a key compromise). A fetch that fails, or that finds nothing newer while
 * inside the margin, is retried with exponential backoff and jitter, so that many responders do not
 * hit a CA's site in step after it comes back.
 */

export interface FetchSchedule {
  /** How long before the held CRL's nextUpdate to look for the next one (ms). */
  readonly marginMs: number;
  /** The longest wait between two fetches (ms). */
  readonly maxIntervalMs: number;
  /** The first retry's delay (ms); each further one doubles it, up to `retryMaxMs`. */
  readonly retryFirstMs: number;
  readonly retryMaxMs: number;
}

/**
 * When to fetch after a fetch at `now` that left a CRL with `nextUpdate` held, or `undefined` when
 * the held CRL is already inside its margin (the next fetch is then a retry).
 */
export function nextRegularFetch(now: number, nextUpdate: number | undefined, schedule: FetchSchedule): number | undefined {
  const byInterval = now + schedule.maxIntervalMs;
  if (nextUpdate === undefined) return byInterval;
  const byNextUpdate = nextUpdate - schedule.marginMs;
  return byNextUpdate > now ? Math.min(byInterval, byNextUpdate) : undefined;
}

/**
 * The delay before retry number `attempt` (1 for the first): `retryFirstMs` × 2^(attempt−1), at most
 * `retryMaxMs`, of which a random half ("equal jitter": never less than half the backoff).
 */
export function retryDelay(attempt: number, schedule: FetchSchedule, random: () => number = Math.random): number {
  const backoff = Math.min(schedule.retryMaxMs, schedule.retryFirstMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return backoff / 2 + (random() * backoff) / 2;
}
