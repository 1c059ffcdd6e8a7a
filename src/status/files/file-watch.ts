/**
 * A watch on one file's inode that follows the file when it is replaced by rename, as `openssl ca`
 * and CRL publishers replace theirs.
 *
 * Why not watch the directory: every write(2) to a file in it is an event delivered to the serving
 * thread, and `openssl ca` writes index.txt.new in 4 KiB stdio buffers. A 1M-line (116 MB) rewrite was
 * ~28,000 callbacks, ~0.2 s of the serving thread's CPU, all to learn that a file we do not read changed.
 * The inode of the file itself sees only its own changes, and the rename that replaces it (the old
 * inode loses its link: IN_ATTRIB, then IN_DELETE_SELF); `rearm` then moves the watch to the new inode.
 */
import type { FSWatcher } from "node:fs";
import { watch } from "node:fs";
import { stat } from "node:fs/promises";
import type { Logger } from "../../observability/logger.ts";

export interface FileWatch {
  /**
   * Moves the watch to the inode the path names now, if that is not the watched one (the file was
   * replaced, or appeared after being missing). Call it before each look at the file.
   */
  rearm(): Promise<void>;
  close(): void;
}

/** How many times `rearm` retries when the file is replaced while the watch is being set up. */
const REARM_TRIES = 3;

async function inodeOf(file: string): Promise<bigint | undefined> {
  try {
    return (await stat(file, { bigint: true })).ino;
  } catch {
    return undefined;
  }
}

/**
 * Watches `file`, calling `onChange` for any event on it. A missing file is not an error (the
 * caller's poll sees it appear, and `rearm` then watches it); a watch that cannot be set up or
 * fails is logged once, and the caller's poll is then the only detector.
 */
export function watchFile(file: string, onChange: () => void, logger: Logger): FileWatch {
  let watcher: FSWatcher | undefined;
  let watched: bigint | undefined;
  let warned = false;
  let closed = false;

  const warnOnce = (error: unknown): void => {
    if (warned) return;
    warned = true;
    logger.warn({ file, err: error instanceof Error ? error.message : String(error) }, "cannot watch file; relying on polling");
  };
  const drop = (): void => {
    watcher?.close();
    watcher = undefined;
    watched = undefined;
  };

  const arm = async (): Promise<void> => {
    for (let tries = 0; tries < REARM_TRIES && !closed; tries++) {
      drop();
      const before = await inodeOf(file);
      if (before === undefined || closed) return;
      let next: FSWatcher;
      try {
        next = watch(file, { persistent: false }, onChange);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") warnOnce(error);
        return;
      }
      next.on("error", (error: Error) => {
        warnOnce(error);
        if (watcher === next) drop();
      });
      if (closed) {
        next.close();
        return;
      }
      watcher = next;
      // The watch holds the inode the path named when it was set up: known only if it is the same before and after.
      if ((await inodeOf(file)) === before) {
        watched = before;
        return;
      }
    }
  };

  const rearm = async (): Promise<void> => {
    if (closed) return;
    const current = await inodeOf(file);
    if (current !== undefined && current === watched && watcher !== undefined) return;
    if (current === undefined && watcher === undefined) return;
    await arm();
  };
  // One re-arm at a time: two interleaved would each set up a watch, and one would leak.
  let queue: Promise<void> = Promise.resolve();

  return {
    rearm(): Promise<void> {
      queue = queue.then(rearm);
      return queue;
    },
    close(): void {
      closed = true;
      drop();
    },
  };
}
