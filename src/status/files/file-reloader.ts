/**
 * Keeps a file-backed source current. Two detectors feed one reload loop:
 * - fs.watch on each file, moved to the new inode when the file is replaced by rename
 *   (file-watch.ts: a watch on the directory was an event per write to any file in it), and
 * - a stat poll every `pollIntervalMs` comparing inode, size, mtime and ctime, because fs.watch
 *   is not reliable everywhere (network file systems, some containers).
 * A reload runs only when those stat signatures differ from the last attempted ones, so one
 * change is loaded (and, when broken, warned about) once, however many events it caused.
 * Reloads never overlap: a change seen during a reload is picked up right after it.
 */
import { stat } from "node:fs/promises";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { watchFile, type FileWatch } from "./file-watch.ts";
import { MISSING, statSignature } from "./stat-signature.ts";

/** Default for the sources' `pollIntervalMs`. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** fs.watch events come in bursts (a rename is two or three; a rewrite in place, one per write); wait this long for the burst to end. */
const WATCH_SETTLE_MS = 25;

/** The stat signature of each file, joined; a missing file has its own signature. */
export async function fileSignatures(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      try {
        return statSignature(await stat(file, { bigint: true }));
      } catch {
        return MISSING;
      }
    }),
  );
  return parts.join("|");
}

export interface FileReloaderOptions {
  readonly files: readonly string[];
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** Signatures of the files as they were when the first load read them. */
  readonly loadedSignatures: string;
  /**
   * Reads and installs the files' current content. Throws (preferably a ConfigError naming the
   * file) to reject it; the source then keeps its last good data.
   */
  readonly reload: () => Promise<void>;
}

/** A running reloader. */
export interface FileReloader {
  /** Stops watching and polling, and waits for a reload in progress to end. */
  close(): Promise<void>;
}

/**
 * Starts watching `files`. Watch and poll handles are unref'd: they never keep the process alive.
 * A file that cannot be watched is logged once; the poll still covers it.
 */
export function startFileReloader(options: FileReloaderOptions): FileReloader {
  const { files, logger } = options;
  let attempted = options.loadedSignatures;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let settle: NodeJS.Timeout | undefined;

  const check = (): void => {
    if (closed) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        // Before the stat: a change after it then fires on the watched inode, never between two.
        await Promise.all(watches.map((watch) => watch.rearm()));
        const current = await fileSignatures(files);
        if (current === attempted || closed) continue;
        attempted = current;
        try {
          await options.reload();
        } catch (error) {
          const message = error instanceof ConfigError ? error.describe() : error instanceof Error ? error.message : String(error);
          const file = error instanceof ConfigError ? error.file : undefined;
          logger.warn({ file: file ?? files.join(","), err: message }, "status data not reloaded; keeping the last good data");
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
  };

  const onEvent = (): void => {
    clearTimeout(settle);
    settle = setTimeout(check, WATCH_SETTLE_MS);
    settle.unref();
  };
  const watches: FileWatch[] = files.map((file) => watchFile(file, onEvent, logger));
  // Then one look: a change made after the first load read the files and before the watch was set up has no event.
  const armed = Promise.all(watches.map((watch) => watch.rearm())).then(check);
  const poll = setInterval(check, options.pollIntervalMs);
  poll.unref();

  return {
    async close(): Promise<void> {
      closed = true;
      clearInterval(poll);
      clearTimeout(settle);
      await armed;
      for (const watch of watches) watch.close();
      await running;
    },
  };
}

/**
 * Validates a `pollIntervalMs` option: undefined → the default; otherwise a finite number of
 * at least 10 ms. Throws ConfigError("pollIntervalMs", ...) otherwise.
 */
export function pollInterval(value: number | undefined): number {
  if (value === undefined) return DEFAULT_POLL_INTERVAL_MS;
  if (!Number.isFinite(value) || value < 10) throw new ConfigError("pollIntervalMs", "must be a number of milliseconds, at least 10");
  return value;
}
