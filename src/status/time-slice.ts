/**
 * Cooperative slicing for long loads (a million-line index, a million-entry CRL): work runs in
 * slices of a few milliseconds, then yields to the event loop with setImmediate so requests keep
 * being answered. Slices are measured in time, not items, because the first slices run before
 * V8 has optimised the loop and are several times slower than later ones.
 * performance.now() is a monotonic timer used only for this budget, never as the time of day.
 */
import { performance } from "node:perf_hooks";

/**
 * Work per slice. Measured (bench/crl-load.ts, 1M entries, 2 vCPUs shared with other jobs):
 * most slices end within 4-6 ms; the worst event-loop blocks of a whole load were 50-80 ms,
 * from GC pauses, first-touch page faults and preemption rather than from the slices' own work.
 */
export const SLICE_BUDGET_MS = 4;

/** A budget tracker: `due()` says when the current slice is used up; `pause()` yields and starts the next. */
export interface TimeSlicer {
  due(): boolean;
  pause(): Promise<void>;
}

/** A slicer whose slices last `budgetMs` (default SLICE_BUDGET_MS). */
export function timeSlicer(budgetMs: number = SLICE_BUDGET_MS): TimeSlicer {
  let sliceStart = performance.now();
  return {
    due: () => performance.now() - sliceStart >= budgetMs,
    pause: async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    },
  };
}
