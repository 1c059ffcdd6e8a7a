/**
 * What a file-backed source compares to tell that its file changed: device, inode, size, mtime and
 * ctime, to the nanosecond. A file replaced by rename has a new inode; one rewritten in place, a new
 * mtime and ctime. The reloader (file-reloader.ts), the early and shared loads (index-preload.ts,
 * shared-index-loads.ts, shared-crl-loads.ts) and the scan after them (index-reload.ts) must spell
 * it alike, since they compare each other's.
 */
import { statSync, type BigIntStats } from "node:fs";

/** The signature of a file whose stat(2) is `stats`. */
export function statSignature(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

/** The signature of a file that is not there. */
export const MISSING = "missing";

/**
 * The signature of `file` now, synchronously (as file-reloader.ts `fileSignatures([file])`): a load
 * started elsewhere takes it before its thread reads the file.
 */
export function fileSignatureNow(file: string): string {
  try {
    return statSignature(statSync(file, { bigint: true }));
  } catch {
    return MISSING;
  }
}
