import { setTimeout as sleep } from "node:timers/promises";
import { readPidFile } from "./pid-file.ts";
import { readReloadReport } from "./reload-report.ts";
import { reloadSummaryMessage } from "./reload-summary.ts";

/** How often `vouch reload` looks for the outcome. */
const POLL_MS = 100;

/**
 * `vouch reload --pid-file FILE [--timeout S]`: sends SIGHUP to the server the pid file names (the
 * supervisor, which reloads every worker) and waits for the outcome it reports (reload-report.ts).
 * Returns the exit code: 0 when every worker applied the new configuration; 1 when it was refused
 * (the running configuration stays; the reason is printed), applied by only some workers, or no
 * outcome came within `timeoutMs`. Throws ConfigError when the pid file is missing, unreadable or
 * stale.
 */
export async function runReload(pidFile: string, timeoutMs: number, print: (line: string, error: boolean) => void = defaultPrint): Promise<number> {
  const pid = await readPidFile(pidFile);
  const askedAt = Date.now();
  process.kill(pid, "SIGHUP");
  const deadline = askedAt + timeoutMs;
  for (;;) {
    const report = await readReloadReport(pidFile, pid, askedAt);
    if (report !== undefined) {
      if (report.result === "applied") {
        const workers = report.workers === undefined ? "" : ` (${report.workers.applied} worker${report.workers.applied === 1 ? "" : "s"})`;
        print(`vouch: process ${pid} reloaded its configuration${workers}`, false);
        return 0;
      }
      print(`vouch: ${reloadSummaryMessage(report)}`, true);
      return 1;
    }
    if (!running(pid)) {
      print(`vouch: process ${pid} exited before it reported the reload's outcome`, true);
      return 1;
    }
    if (Date.now() >= deadline) {
      print(`vouch: process ${pid} reported no outcome within ${Math.round(timeoutMs / 1000)} s; it may still be reloading (see its log)`, true);
      return 1;
    }
    await sleep(POLL_MS);
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function defaultPrint(line: string, error: boolean): void {
  (error ? process.stderr : process.stdout).write(`${line}\n`);
}
