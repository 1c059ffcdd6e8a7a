/**
 * Whether a billing sink can write now, for /readyz (SPEC §7; issue 17: every answer was tryLater
 * while /readyz said ready). Two kinds of evidence, the newer one wins:
 * - each group-commit batch: durable or failed;
 * - a probe of the sink (`BillingSink.probe`), run when readiness is asked and reused for
 *   `reuseMs`, so that a sink taken out of rotation (no traffic, no batches) is seen to recover,
 *   and one that breaks while idle is seen to fail.
 */
import type { Clock } from "../clock.ts";

/** A sink's health as the readiness check reads it. */
export interface BillingHealth {
  /** A batch of the sink ended; `error` when it was not made durable. */
  batch(error?: unknown): void;
  /** Why the sink cannot write now, or undefined when it can. Never rejects. */
  problem(): Promise<string | undefined>;
}

/** Default reuse of a probe's result: readiness probes and scrapes in one second share one probe. */
const PROBE_REUSE_MS = 1000;

export function billingHealth(probe: () => Promise<void>, clock: Clock, reuseMs: number = PROBE_REUSE_MS): BillingHealth {
  /** The newest evidence: when, and the problem it showed (undefined: the sink wrote). */
  let latest: { at: number; problem: string | undefined } = { at: -Infinity, problem: undefined };
  let probed: { at: number; done: Promise<void> } | undefined;
  const note = (at: number, problem: string | undefined) => {
    if (at >= latest.at) latest = { at, problem };
  };
  return {
    batch(error) {
      note(clock.now(), error === undefined ? undefined : `billing batch failed: ${describe(error)}`);
    },
    async problem() {
      const now = clock.now();
      if (probed === undefined || now - probed.at >= reuseMs) {
        const started = now;
        probed = {
          at: now,
          done: probe().then(
            () => note(started, undefined),
            (error: unknown) => note(started, `billing sink cannot write: ${describe(error)}`),
          ),
        };
      }
      await probed.done;
      return latest.problem;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
