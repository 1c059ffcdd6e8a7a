import type { Clock } from "../clock.ts";

/**
 * Lets at most `perSecond` log lines through per one-second window, so that a flood of bad requests
 * cannot flood the log. The first line of each window reports how many were dropped before it.
 */
export interface LogSampler {
  /** `undefined` when this line should be dropped, else the number of lines dropped since the last one let through. */
  admit(): number | undefined;
}

export function logSampler(perSecond: number, clock: Clock): LogSampler {
  let windowStart = 0;
  let admitted = 0;
  let dropped = 0;
  return {
    admit() {
      const now = clock.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        admitted = 0;
      }
      if (admitted >= perSecond) {
        dropped++;
        return undefined;
      }
      admitted++;
      const report = dropped;
      dropped = 0;
      return report;
    },
  };
}
