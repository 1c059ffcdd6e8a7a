import type { VouchProcess } from "./vouch-process.ts";

/** Resolves with the log records matching `match` once there are `count` of them; rejects after `timeoutMs`. */
export async function waitForLogs(
  vouch: VouchProcess,
  match: (record: Record<string, unknown>) => boolean,
  count = 1,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = vouch.logs.filter(match);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`only ${found.length} of ${count} expected log lines after ${timeoutMs} ms`);
    if (vouch.child.exitCode !== null) throw new Error(`vouch exited (${vouch.child.exitCode}) while waiting for a log line`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Log records with this `msg`. */
export const withMessage =
  (message: string) =>
  (record: Record<string, unknown>): boolean =>
    record.msg === message;
