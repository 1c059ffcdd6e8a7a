/**
 * When file-backed data (index.txt, CRL files) may have changed. Two detectors call `onChange`:
 * - fs.watch on each file, moved to the new inode when the file is replaced by rename
 *   (file-watch.ts: a watch on the directory was an event per write to any file in it), and
 * - a stat poll every `pollIntervalMs`, because fs.watch is not reliable everywhere (network file
 *   systems, some containers).
 * `check` then says whether the files really changed: their stat signatures (inode, size, mtime,
 * ctime) differ from the last ones it reported, so one change is loaded (and, when broken, warned
 * about) once, however many events it caused.
 */
import { stat } from "node:fs/promises";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { watchFile, type FileWatch } from "./file-watch.ts";
import { MISSING, statSignature } from "./stat-signature.ts";

/** Default for the sources' `pollIntervalMs`. */
const DEFAULT_POLL_INTERVAL_MS = 1000;
/** fs.watch events come in bursts (a rename is two or three; a rewrite in place, one per write); wait this long for the burst to end. */
const WATCH_SETTLE_MS = 25;

/** The files as stat(2) sees them now. */
export interface FileVersion {
  /** Each file's stat signature, joined; a missing file has its own. */
  readonly signature: string;
  /** The newest mtime among them (ms): when the change became known on disk (0 when none is there). */
  readonly mtime: number;
}

/** The stat signature and newest mtime of `files` now. */
async function fileVersion(files: readonly string[]): Promise<FileVersion> {
  const parts = await Promise.all(
    files.map(async (file) => {
      try {
        const stats = await stat(file, { bigint: true });
        return { signature: statSignature(stats), mtime: Number(stats.mtimeMs) };
      } catch {
        return { signature: MISSING, mtime: 0 };
      }
    }),
  );
  return { signature: parts.map((part) => part.signature).join("|"), mtime: Math.max(0, ...parts.map((part) => part.mtime)) };
}

/**
 * When the files' content changed, for a change found by `check`: its mtime, or, when the files were
 * missing at that moment (replaced by rename: `openssl ca` moves index.txt away before it moves the
 * new one in), theirs now, once the content read since is there.
 */
export async function changedAt(files: readonly string[], version: FileVersion): Promise<number> {
  return version.mtime > 0 ? version.mtime : (await fileVersion(files)).mtime;
}

/** The stat signature of each file, joined; a missing file has its own signature. */
export async function fileSignatures(files: readonly string[]): Promise<string> {
  return (await fileVersion(files)).signature;
}

export interface FileChangesOptions {
  readonly files: readonly string[];
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** Signatures of the files as they were when the data in use was read. */
  readonly loadedSignatures: string;
  /** Called when the files may have changed (unref'd timers: never keeps the process alive). */
  readonly onChange: () => void;
}

/** Watching files. */
export interface FileChanges {
  /**
   * Re-arms the watches, then stats the files: their version when it differs from the last one
   * reported (which it then is), else undefined. Re-arming first means a change made after the
   * stat fires on the watched inode, never between the two.
   */
  check(): Promise<FileVersion | undefined>;
  /** Stops watching and polling. */
  close(): Promise<void>;
}

/** Starts watching `files`; a file that cannot be watched is logged once, and the poll still covers it. */
export function watchFileChanges(options: FileChangesOptions): FileChanges {
  const { files, logger, onChange } = options;
  let reported = options.loadedSignatures;
  let closed = false;
  let settle: NodeJS.Timeout | undefined;
  const onEvent = (): void => {
    clearTimeout(settle);
    settle = setTimeout(onChange, WATCH_SETTLE_MS);
    settle.unref();
  };
  const watches: FileWatch[] = files.map((file) => watchFile(file, onEvent, logger));
  // Then one look: a change made after the data was read and before the watch was set up has no event.
  const armed = Promise.all(watches.map((watch) => watch.rearm())).then(() => {
    if (!closed) onChange();
  });
  const poll = setInterval(onChange, options.pollIntervalMs);
  poll.unref();
  return {
    async check() {
      await Promise.all(watches.map((watch) => watch.rearm()));
      const version = await fileVersion(files);
      if (version.signature === reported) return undefined;
      reported = version.signature;
      return version;
    },
    async close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(settle);
      await armed;
      for (const watch of watches) watch.close();
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
