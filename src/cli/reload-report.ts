/**
 * How `vouch reload` learns the outcome of the reload it asked for. The server started with
 * `--pid-file FILE` writes the outcome of each reload to `FILE.reload.json` (replaced atomically),
 * with its pid and the time the reload was asked for (the SIGHUP arrived); `vouch reload` notes the
 * time, sends SIGHUP, and waits for a report of that pid whose reload was asked for no earlier.
 * An earlier reload still running when the signal was sent therefore never passes for this one.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { Logger } from "../observability/logger.ts";
import type { ReloadResult, ReloadSummary } from "./reload-summary.ts";

/** The JSON in the report file. */
export interface ReloadReport extends ReloadSummary {
  readonly pid: number;
  /** When the server was asked to reload (ms since the epoch). */
  readonly askedAt: number;
  readonly finishedAt: number;
}

/** The report file of a pid file. */
function reloadReportFile(pidFile: string): string {
  return `${pidFile}.reload.json`;
}

/** Server side: what each reload's summary goes to. */
export interface ReloadReporter {
  /** Counts the outcome and writes the report (when there is a pid file); never rejects. */
  record(summary: ReloadSummary, askedAt: number): Promise<void>;
  /** Removes the report file (at a clean exit, with the pid file). */
  remove(): Promise<void>;
}

/**
 * A reporter writing next to `pidFile` (nothing is written without one) and counting every outcome
 * with `count` (the `vouch_reloads_total` counter). A report that cannot be written is logged:
 * `vouch reload` then times out, and the log still has the summary line.
 */
export function reloadReporter(options: { readonly pidFile?: string | undefined; readonly count: (result: ReloadResult) => void; readonly logger: Logger }): ReloadReporter {
  const { pidFile, count, logger } = options;
  let writing = Promise.resolve();
  return {
    record(summary, askedAt) {
      count(summary.result);
      if (pidFile === undefined) return Promise.resolve();
      const report: ReloadReport = { ...summary, pid: process.pid, askedAt, finishedAt: Date.now() };
      const file = reloadReportFile(pidFile);
      // One write at a time, so that reports land in the order the reloads finished.
      writing = writing.then(async () => {
        try {
          await writeFile(`${file}.tmp`, `${JSON.stringify(report)}\n`, { mode: 0o644 });
          await rename(`${file}.tmp`, file);
        } catch (error) {
          logger.warn({ file, err: error instanceof Error ? error.message : String(error) }, "cannot write the reload report for vouch reload");
        }
      });
      return writing;
    },
    async remove() {
      await writing;
      if (pidFile !== undefined) await rm(reloadReportFile(pidFile), { force: true });
    },
  };
}

/** Client side: the report of `pid`'s reload asked for at or after `askedAt`, if written yet. */
export async function readReloadReport(pidFile: string, pid: number, askedAt: number): Promise<ReloadReport | undefined> {
  let report: Partial<ReloadReport>;
  try {
    report = JSON.parse(await readFile(reloadReportFile(pidFile), "utf8")) as Partial<ReloadReport>;
  } catch {
    // Not written yet, or being replaced: the next poll reads it.
    return undefined;
  }
  if (report.pid !== pid || typeof report.askedAt !== "number" || report.askedAt < askedAt) return undefined;
  if (report.result !== "applied" && report.result !== "refused" && report.result !== "partial") return undefined;
  return report as ReloadReport;
}
