import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";

/** Logs a dependency's outage at most once per interval, however many requests meet it. */
export interface OutageLog {
  /** One more failure; logs a warning (with the failures counted since the last one) when the interval has passed. */
  failed(error: unknown): void;
  /** A success; logs once that the dependency is back when it was down. */
  succeeded(): void;
  /** True between a failure and the next success. */
  readonly down: boolean;
}

/**
 * An outage log for `what` (e.g. "redis"). The first failure of an outage is logged at once unless a
 * warning went out less than `intervalMs` ago; later failures only add to the count of the next warning.
 */
export function outageLog(logger: Logger, options: { readonly what: string; readonly intervalMs: number; readonly clock: Clock; readonly effect: string }): OutageLog {
  const { what, intervalMs, clock, effect } = options;
  let down = false;
  let downSince = 0;
  let failures = 0;
  let lastWarning = -Infinity;
  return {
    get down() {
      return down;
    },
    failed(error) {
      const now = clock.now();
      if (!down) {
        down = true;
        downSince = now;
      }
      failures++;
      if (now - lastWarning < intervalMs) return;
      lastWarning = now;
      logger.warn({ result: "unavailable", failures, err: error instanceof Error ? error.message : String(error) }, `${what} unavailable: ${effect}`);
      failures = 0;
    },
    succeeded() {
      if (!down) return;
      down = false;
      logger.info({ result: "available", downForMs: clock.now() - downSince, failuresNotLogged: failures }, `${what} available again`);
      failures = 0;
    },
  };
}
