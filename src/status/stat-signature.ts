/**
 * What a file-backed source compares to tell that its file changed: device, inode, size, mtime and
 * ctime, to the nanosecond. A file replaced by rename has a new inode; one rewritten in place, a new
 * mtime and ctime. The reloader (file-reloader.ts), the early load (index-preload.ts) and the scan
 * after it (index-reload.ts) must spell it alike, since they compare each other's.
 */
import type { BigIntStats } from "node:fs";

/** The signature of a file whose stat(2) is `stats`. */
export function statSignature(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

/** The signature of a file that is not there. */
export const MISSING = "missing";
