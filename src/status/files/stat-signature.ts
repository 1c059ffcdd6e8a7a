/**
 * What a file-backed source compares to tell that its file changed: device, inode, size, mtime and
 * ctime, to the nanosecond. A file replaced by rename has a new inode; one rewritten in place, a new
 * mtime and ctime. The watch (file-changes.ts), the loads made for worker threads (preloads.ts)
 * and the scan after a first load (index-jobs.ts) must spell it alike, since they compare each other's.
 */
import { statSync, type BigIntStats } from "node:fs";

/** The signature of a file whose stat(2) is `stats`. */
export function statSignature(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

/** The signature of a file that is not there. */
export const MISSING = "missing";

/**
 * The signature of `file` now, synchronously (as file-changes.ts `fileSignatures([file])`): a load
 * started elsewhere takes it before its thread reads the file.
 */
export function fileSignatureNow(file: string): string {
  try {
    return statSignature(statSync(file, { bigint: true }));
  } catch {
    return MISSING;
  }
}
