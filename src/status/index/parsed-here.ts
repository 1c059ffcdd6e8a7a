/**
 * Which index files are parsed on the calling thread instead of on a loading thread: a thread costs
 * ~15 MB of resident memory for the life of the process (its isolate while it runs, and the code Node
 * keeps per process once a thread has loaded it), more than a small CA's whole table, while 64 KiB
 * (~850 lines) load and scan in about 1 ms (issue 18: `vouch serve --workers 1` idle 106 -> 91 MB).
 */
import { stat } from "node:fs/promises";

/** Index files up to this many bytes are parsed here. */
export const PARSED_HERE_BYTES = 64 * 1024;

/** Whether `file` is at most `limit` bytes; one that cannot be read is not (a thread reports why, as before). */
export async function smallEnoughToParseHere(file: string, limit: number = PARSED_HERE_BYTES): Promise<boolean> {
  const size = (await stat(file).catch(() => undefined))?.size;
  return size !== undefined && size <= limit;
}
