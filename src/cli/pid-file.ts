import { readFile, rm, writeFile } from "node:fs/promises";
import { ConfigError } from "../errors.ts";

/**
 * The pid file of `vouch serve --pid-file FILE`: the pid of the process to signal (the supervisor
 * with several workers), one decimal line. Written once serving, removed at a clean exit.
 * Throws ConfigError (field `--pid-file`) when it cannot be written.
 */
export async function writePidFile(file: string, pid: number = process.pid): Promise<void> {
  try {
    await writeFile(file, `${pid}\n`, { mode: 0o644 });
  } catch (error) {
    throw new ConfigError("--pid-file", `cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
}

/** Removes the pid file if it still names this process (another server may have taken it over). */
export async function removePidFile(file: string, pid: number = process.pid): Promise<void> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text?.trim() === String(pid)) await rm(file, { force: true });
}

/**
 * The pid a pid file names, checked to be a running process. Throws ConfigError (field
 * `--pid-file`) when the file is missing, holds no pid, or names a process that is gone.
 */
export async function readPidFile(file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError("--pid-file", `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): is vouch serve running with --pid-file?`, { cause: error });
  }
  const pid = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || pid < 2) throw new ConfigError("--pid-file", `${file} does not hold a process id`);
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") throw new ConfigError("--pid-file", `no process ${pid} (from ${file}) is running: a stale pid file?`);
    throw error;
  }
  return pid;
}
