/**
 * When a feed (a CRL URL, or a list of them) fetches next, and the timer that says so: the next
 * regular fetch after a success, a growing retry delay after a failure (fetch-schedule.ts).
 */
import type { Clock } from "../../../clock.ts";
import { retryDelay, type FetchSchedule } from "./fetch-schedule.ts";

export class FetchTimer {
  readonly #clock: Clock;
  readonly #schedule: FetchSchedule;
  readonly #stopped: AbortSignal;
  #dueAt = 0;
  #retries = 0;
  #timer: NodeJS.Timeout | undefined;
  #due: (() => void) | undefined;

  constructor(clock: Clock, schedule: FetchSchedule, stopped: AbortSignal) {
    this.#clock = clock;
    this.#schedule = schedule;
    this.#stopped = stopped;
  }

  /** Whether a fetch is due at `now`. */
  isDue(now: number): boolean {
    return now >= this.#dueAt;
  }

  /** What is called whenever a fetch becomes due, once `watch` was called. */
  get due(): (() => void) | undefined {
    return this.#due;
  }

  /** Calls `due` whenever a fetch becomes due. */
  watch(due: () => void): void {
    this.#due = due;
    this.#arm();
  }

  /** After a fetch at `now`: `regular` is when the next one is due, `undefined` to retry (with backoff). */
  settle(now: number, regular: number | undefined): void {
    if (regular !== undefined) {
      this.#retries = 0;
      this.#dueAt = regular;
    } else {
      this.#retries += 1;
      this.#dueAt = now + retryDelay(this.#retries, this.#schedule);
    }
    this.#arm();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#due === undefined || this.#stopped.aborted) return;
    // setTimeout takes at most ~24.8 days; a timer that fires early only arms the next one.
    const delay = Math.min(Math.max(0, this.#dueAt - this.#clock.now()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      if (this.isDue(this.#clock.now())) this.#due?.();
      else this.#arm();
    }, delay);
    this.#timer.unref();
  }
}
