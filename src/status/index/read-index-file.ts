/**
 * Parses an index.txt file a chunk at a time, for the loading thread (index-jobs.ts).
 * Reading the whole file first cost more than it seems: a 116 MB index read into one fresh buffer
 * took ~460 ms on the machines measured (first-touch page faults of new memory, not the copy from
 * the page cache), and that buffer was the load's largest allocation. One reused chunk is faulted
 * in once.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ConfigError } from "../../errors.ts";
import { IndexLines } from "./index-lines.ts";
import { indexTableBuilder, likelyLines } from "./index-parse.ts";
import type { SerialTableParts } from "../table/serial-table.ts";

/** Bytes read at a time by default; lines longer than the chunk grow it. */
const CHUNK_BYTES = 1 << 21;

/** How to read: all optional. */
export interface ReadIndexOptions {
  /** Bytes read at a time (for tests of lines across chunks). */
  readonly chunkBytes?: number;
  /** Called with each stretch of the file as it is read, in order (e.g. to hash what was parsed). */
  readonly onRead?: (bytes: Buffer) => void;
}

/**
 * The table of the index at `file` (see IndexLines). Synchronous: it runs on a worker thread that
 * has nothing else to do. Throws ConfigError("file", ...) when the file cannot be read or has a
 * malformed line ("line N: ...").
 */
export function readIndexFile(file: string, options: ReadIndexOptions = {}): SerialTableParts {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const fd = openIndexFile(file);
  try {
    const size = fstatSync(fd).size;
    let chunk = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
    let position = 0;
    let filled = read(fd, chunk, 0, position, file);
    position += filled;
    options.onRead?.(chunk.subarray(0, filled));
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
      const got = read(fd, chunk, left, position, file);
      position += got;
      options.onRead?.(chunk.subarray(left, left + got));
      filled = left + got;
    }
    return builder.parts();
  } finally {
    closeSync(fd);
  }
}

/** Fills `chunk` from `from` on with the file's bytes from `position` on, as far as the file goes; returns the bytes read. */
export function read(fd: number, chunk: Buffer, from: number, position: number, file: string): number {
  let at = from;
  try {
    while (at < chunk.length) {
      const n = readSync(fd, chunk, at, chunk.length - at, position + at - from);
      if (n === 0) break;
      at += n;
    }
  } catch (error) {
    throw new ConfigError("file", `cannot read: ${error instanceof Error ? error.message : String(error)}`, { file, cause: error });
  }
  return at - from;
}

/** Opens `file` for reading; throws ConfigError("file", ...) naming it when it cannot be. */
export function openIndexFile(file: string): number {
  try {
    return openSync(file, "r");
  } catch (error) {
    throw new ConfigError("file", `cannot read: ${error instanceof Error ? error.message : String(error)}`, { file, cause: error });
  }
}
