/**
 * Parses an index.txt file a chunk at a time, for the loading worker (index-load-worker.ts).
 * Reading the whole file first cost more than it seems: a 116 MB index read into one fresh buffer
 * took ~460 ms on the machines measured (first-touch page faults of new memory, not the copy from
 * the page cache), and that buffer was the load's largest allocation. One reused chunk is faulted
 * in once.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ConfigError } from "../errors.ts";
import { IndexLines } from "./index-lines.ts";
import { indexTableBuilder, likelyLines } from "./openssl-index-parse.ts";
import type { SerialTableParts } from "./serial-table.ts";

/** Bytes read at a time by default; lines longer than the chunk grow it. */
const CHUNK_BYTES = 1 << 21;

/**
 * The table of the index at `file` (see IndexLines). Synchronous: it runs on a worker thread that
 * has nothing else to do. Throws ConfigError("file", ...) when the file cannot be read or has a
 * malformed line ("line N: ..."). `chunkBytes` is there for tests of lines across chunks.
 */
export function readIndexFile(file: string, chunkBytes: number = CHUNK_BYTES): SerialTableParts {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    throw new ConfigError("file", `cannot read: ${error instanceof Error ? error.message : String(error)}`, { file, cause: error });
  }
  try {
    const size = fstatSync(fd).size;
    let chunk = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
    let filled = read(fd, chunk, 0, file);
    // The first chunk's lines say how long lines are here, which sizes the hash slots for the whole file.
    const builder = indexTableBuilder(size, filled === 0 ? 1 : likelyLines(chunk, filled, size));
    const lines = new IndexLines(builder, file);
    for (;;) {
      const last = filled < chunk.length;
      const used = lines.feed(chunk, 0, filled, last);
      if (last) break;
      const left = filled - used;
      if (left === chunk.length) {
        const bigger = Buffer.allocUnsafe(chunk.length * 2);
        chunk.copy(bigger, 0, 0, left);
        chunk = bigger;
      } else {
        chunk.copy(chunk, 0, used, filled);
      }
      filled = left + read(fd, chunk, left, file);
    }
    return builder.parts();
  } finally {
    closeSync(fd);
  }
}

/** Fills `chunk` from `from` on as far as the file goes; returns the bytes read. */
function read(fd: number, chunk: Buffer, from: number, file: string): number {
  let at = from;
  try {
    while (at < chunk.length) {
      const n = readSync(fd, chunk, at, chunk.length - at, null);
      if (n === 0) break;
      at += n;
    }
  } catch (error) {
    throw new ConfigError("file", `cannot read: ${error instanceof Error ? error.message : String(error)}`, { file, cause: error });
  }
  return at - from;
}
