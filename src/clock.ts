/** The only place that reads the wall clock; everything else takes a Clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still at `at` until `set` or `advance` moves it (tests). */
export interface FixedClock extends Clock {
  set(at: string | number | Date): void;
  advance(milliseconds: number): void;
}

export function fixedClock(at: string | number | Date): FixedClock {
  let current = new Date(at).getTime();
  return {
    now: () => current,
    set: (next) => {
      current = new Date(next).getTime();
    },
    advance: (milliseconds) => {
      current += milliseconds;
    },
  };
}
