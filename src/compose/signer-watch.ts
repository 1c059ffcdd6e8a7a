/**
 * Notices changed signer files as the revocation sources notice theirs (file-reloader.ts): an
 * fs.watch on each signer file's inode (following a replacement by rename) and on each signer
 * directory (a new NAME.pem), and a poll every `pollIntervalMs` for where events do not come
 * (network file systems, some containers). What to do is `check`'s business; checks never overlap,
 * and a change seen during one runs another right after it.
 */
import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "../observability/logger.ts";
import { watchFile, type FileWatch } from "../status/files/file-watch.ts";

/** fs.watch events come in bursts (a rename is two or three, a copy one per write): wait this long for the burst to end. */
const SETTLE_MS = 50;

export interface SignerWatch {
  /** Runs a check now (after a renewal installed files), resolving when it is done. */
  checkNow(): Promise<void>;
  /** Stops watching and polling, and waits for a check in progress. */
  close(): Promise<void>;
}

export interface SignerWatchOptions {
  readonly files: readonly string[];
  readonly directories: readonly string[];
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** Reads the files again; must not reject. */
  readonly check: () => Promise<void>;
}

export function watchSigners(options: SignerWatchOptions): SignerWatch {
  const { logger } = options;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let settle: NodeJS.Timeout | undefined;

  const run = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await Promise.all(fileWatches.map((fileWatch) => fileWatch.rearm()));
        if (!closed) await options.check();
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const soon = () => {
    if (closed) return;
    clearTimeout(settle);
    settle = setTimeout(() => void run(), SETTLE_MS);
    settle.unref();
  };

  const fileWatches: FileWatch[] = options.files.map((file) => watchFile(file, soon, logger));
  const directoryWatches: FSWatcher[] = [];
  for (const directory of options.directories) {
    try {
      const watcher = watch(directory, { persistent: false }, soon);
      watcher.on("error", (error: Error) => logger.warn({ directory, err: error.message }, "cannot watch the signer directory; relying on polling"));
      directoryWatches.push(watcher);
    } catch (error) {
      logger.warn({ directory, err: error instanceof Error ? error.message : String(error) }, "cannot watch the signer directory; relying on polling");
    }
  }
  void Promise.all(fileWatches.map((fileWatch) => fileWatch.rearm()));
  const poll = setInterval(() => void run(), options.pollIntervalMs);
  poll.unref();

  return {
    checkNow: run,
    async close() {
      closed = true;
      clearTimeout(settle);
      clearInterval(poll);
      for (const fileWatch of fileWatches) fileWatch.close();
      for (const watcher of directoryWatches) watcher.close();
      await running;
    },
  };
}
