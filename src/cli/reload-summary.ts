import { assertNever } from "../errors.ts";
import type { ReloadOutcome } from "./reload-config.ts";

/** How a reload of the whole server ended: every worker took it, none did, or only some. */
export type ReloadResult = "applied" | "refused" | "partial";

/** What the server says about one reload, in its summary log line, its metrics and to `vouch reload`. */
export interface ReloadSummary {
  readonly result: ReloadResult;
  /** One line naming the file, field and problem; set unless `applied`. */
  readonly error?: string | undefined;
  /** With a supervisor: how many workers took it, refused it, or did not answer in time. */
  readonly workers?: { readonly applied: number; readonly refused: number; readonly silent: number } | undefined;
}

/** The summary of a one-process reload (reload-config.ts's outcome). */
export function singleReloadSummary(outcome: ReloadOutcome): ReloadSummary {
  return outcome.ok ? { result: "applied" } : { result: "refused", error: outcome.error };
}

/**
 * The summary of a reload that `asked` workers were asked to make, from the answers that came
 * back: applied when every one applied it, refused when none did (a worker that did not answer
 * counts as not having applied it), partial otherwise. The error is the first refusal's.
 */
export function workersReloadSummary(asked: number, answers: readonly ReloadOutcome[], timeoutMs: number): ReloadSummary {
  const applied = answers.filter((answer) => answer.ok).length;
  const refusals = answers.flatMap((answer) => (answer.ok ? [] : [answer.error]));
  const silent = Math.max(0, asked - answers.length);
  const workers = { applied, refused: refusals.length, silent };
  const error = refusals[0] ?? (silent > 0 ? `${silent} worker(s) gave no answer within ${Math.round(timeoutMs / 1000)} s` : undefined);
  if (asked > 0 && applied === asked) return { result: "applied", workers };
  return { result: applied === 0 ? "refused" : "partial", error: error ?? "no worker is running", workers };
}

/** The summary's log message: "workers reloaded", or why (part of) the running configuration stays. */
export function reloadSummaryMessage(summary: ReloadSummary): string {
  const { workers } = summary;
  switch (summary.result) {
    case "applied":
      return workers === undefined ? "reloaded" : "workers reloaded";
    case "refused":
      return `reload refused, the running configuration stays: ${summary.error}`;
    case "partial":
      return `reload applied by ${workers?.applied} of ${(workers?.applied ?? 0) + (workers?.refused ?? 0) + (workers?.silent ?? 0)} workers, the others keep the running configuration: ${summary.error}`;
    default:
      return assertNever(summary.result);
  }
}
