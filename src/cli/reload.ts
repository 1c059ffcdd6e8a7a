import { readPidFile } from "./pid-file.ts";

/**
 * `vouch reload --pid-file FILE`: sends SIGHUP to the server the pid file names (the supervisor,
 * which reloads every worker). The server reloads asynchronously and logs "reloaded", or "reload
 * refused…" with the reason and keeps its running configuration. Throws ConfigError when the pid
 * file is missing, unreadable or stale.
 */
export async function runReload(pidFile: string): Promise<void> {
  const pid = await readPidFile(pidFile);
  process.kill(pid, "SIGHUP");
  process.stdout.write(`vouch: asked process ${pid} to reload its configuration (see its log for the outcome)\n`);
}
