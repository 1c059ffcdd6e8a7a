/**
 * The index.txt loads that run on a loading thread (loading-jobs.ts): a first load (the whole
 * table, without its blocks: scanning for them would add ~0.25 s to the time to ready with 1M
 * lines), the scan for the blocks of a table loaded that way, and a reload, whole or by changed
 * blocks (see index-blocks.ts). Only the finished tables' arrays cross to the serving thread.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync } from "node:fs";
import { blockSerials, BlockScanner, BLOCK_LINES, blocksOf, LineRouter, planReload, type BlockScan, type IndexBlocks } from "./index-blocks.ts";
import { IndexLines } from "./index-lines.ts";
import { openIndexFile, read, readIndexFile } from "./read-index-file.ts";
import { SerialTableBuilder, type SerialTableParts } from "../table/serial-table.ts";
import { statSignature } from "../files/stat-signature.ts";
import type { JobDone } from "../loading-jobs.ts";

/** Above this many changed lines a reload parses the whole file (the rows pass through a merge on the serving thread). */
const MAX_CHANGED_LINES = 32 * BLOCK_LINES;

/** A load's outcome: the whole table, the rows of the changed blocks only, or word that nothing changed. */
export type IndexReload =
  | { readonly kind: "full"; readonly parts: SerialTableParts; readonly blocks: IndexBlocks }
  | {
      readonly kind: "blocks";
      /** The rows of the changed lines that were there before, and of the lines appended since. */
      readonly changed: SerialTableParts;
      readonly appended: SerialTableParts;
      readonly blocks: IndexBlocks;
      readonly lines: number;
    }
  | { readonly kind: "unchanged" };

/** A reload that does not parse the whole file: "whole" when only that can say what the file means now. */
export type BlockReload = Exclude<IndexReload, { kind: "full" }> | { readonly kind: "whole" };

/** Parses the whole file, remembering its blocks. */
export function loadWholeIndex(file: string): IndexReload & { kind: "full" } {
  const scanner = new BlockScanner();
  const parts = readIndexFile(file, { onRead: (bytes) => scanner.feed(bytes) });
  return { kind: "full", parts, blocks: blocksOf(scanner.finish(), parts.duplicates > 0) };
}

/**
 * The blocks of `file` as it is, for a table loaded from it before without them: undefined when its
 * stat signature (file-changes.ts) is not `loadedSignature` any more, as the table may then hold
 * other content. `duplicates` comes from that load.
 */
export function scanIndex(file: string, loadedSignature: string, duplicates: boolean): IndexBlocks | undefined {
  const fd = openIndexFile(file);
  try {
    const signature = () => statSignature(fstatSync(fd, { bigint: true }));
    if (signature() !== loadedSignature) return undefined;
    const scan = scanAll(fd, file, true);
    return signature() === loadedSignature ? blocksOf(scan, duplicates) : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Compares the file with `previous` and parses only its changed blocks when that is enough, else
 * the whole file. Throws ConfigError("file", ...) as readIndexFile does.
 */
export function reloadIndex(file: string, previous: IndexBlocks, maxChangedLines = MAX_CHANGED_LINES): IndexReload {
  const reload = reloadBlocks(file, previous, maxChangedLines);
  return reload.kind === "whole" ? loadWholeIndex(file) : reload;
}

/** As reloadIndex, but answers "whole" where it would parse the whole file. */
function reloadBlocks(file: string, previous: IndexBlocks, maxChangedLines: number): BlockReload {
  const whole = { kind: "whole" } as const;
  const fd = openIndexFile(file);
  try {
    const before = previous.lines.length;
    const lastOld = before - 1;
    const scan = scanAll(fd, file, false);
    const plan = planReload(previous, scan, maxChangedLines);
    if (plan.kind === "unchanged") return plan;
    if (plan.kind === "full") return whole;

    // Sized for the changed blocks' bytes only: the arrays cross to the serving thread, whose heap
    // counts them, and a pool sized for the whole file (58 MB for 1M lines) set off a full GC there on every reload.
    const changedBytes = plan.changed.reduce((sum, block) => sum + ((scan.starts[block + 1] ?? 0) - (scan.starts[block] ?? 0)), 0);
    const bounds = { maxRows: plan.lines + 1, maxPoolBytes: changedBytes / 2 + 1, expectedRows: plan.lines + 1 };
    const changed = new SerialTableBuilder(bounds);
    const appended = new SerialTableBuilder(bounds);
    // Lines past the old end: as many lines as before, the old last block's included.
    const oldLines = before === 0 ? 0 : lastOld * BLOCK_LINES + (previous.lines[lastOld] ?? 0);
    let active: IndexLines | undefined;
    const router = new LineRouter(changed, appended, oldLines, () => active?.lines ?? 0);
    // The scan above skipped serials: each block keeps its sums, but for the changed ones.
    const sums = new Uint32Array(scan.lines.length);
    const counts = new Uint32Array(scan.lines.length);
    sums.set(previous.sums.subarray(0, Math.min(before, sums.length)));
    counts.set(previous.counts.subarray(0, Math.min(before, counts.length)));
    for (const block of plan.changed) {
      const start = scan.starts[block] ?? 0;
      const bytes = Buffer.allocUnsafe((scan.starts[block + 1] ?? start) - start);
      read(fd, bytes, 0, start, file);
      // The same bytes the scan hashed, or the file changed in place since: then parse it all.
      if (!createHash("sha256").update(bytes).digest().equals(scan.digests.subarray(block * 32, block * 32 + 32))) return whole;
      const serials = blockSerials(previous, block, bytes);
      if (!serials.same) return whole;
      sums[block] = serials.sum;
      counts[block] = serials.count;
      active = new IndexLines(router, file, block * BLOCK_LINES);
      active.feed(bytes, 0, bytes.length, true);
    }
    const changedParts = changed.parts();
    const appendedParts = appended.parts();
    // A serial on two of the changed lines: a whole parse decides which one counts.
    if (changedParts.duplicates + appendedParts.duplicates > 0) return whole;
    const blocks = { digests: scan.digests, lines: scan.lines, sums, counts, duplicates: previous.duplicates };
    return { kind: "blocks", changed: changedParts, appended: appendedParts, blocks, lines: plan.lines };
  } finally {
    closeSync(fd);
  }
}

function scanAll(fd: number, file: string, serials: boolean): BlockScan {
  const scanner = new BlockScanner({ serials });
  const chunk = Buffer.allocUnsafe(1 << 21);
  for (let position = 0; ; ) {
    const got = read(fd, chunk, 0, position, file);
    if (got === 0) break;
    scanner.feed(chunk.subarray(0, got));
    position += got;
  }
  return scanner.finish();
}

/** What the index jobs are given. */
export interface IndexLoadInput {
  readonly file: string;
}
export interface IndexReloadInput {
  readonly file: string;
  /** The blocks of the content the table in use holds (undefined: parse the whole file). */
  readonly previous: IndexBlocks | undefined;
  /** With previous blocks: answer "whole" instead of parsing the whole file here (see index-loader.ts). */
  readonly parseWholeHere?: boolean;
}
export interface IndexScanInput {
  readonly file: string;
  /** The stat signature of the file when the table in use was loaded, and whether it repeats a serial. */
  readonly signature: string;
  readonly duplicates: boolean;
}

/** A first load: the whole table, without its blocks. Throws ConfigError("file", ...) as readIndexFile does. */
export function loadIndexJob(input: IndexLoadInput): JobDone<SerialTableParts> {
  return { output: readIndexFile(input.file) };
}

/** A reload: see reloadIndex, or loadWholeIndex without previous blocks. */
export function reloadIndexJob(input: IndexReloadInput): JobDone<IndexReload | BlockReload> {
  if (input.previous === undefined) return { output: loadWholeIndex(input.file) };
  return { output: input.parseWholeHere === false ? reloadBlocks(input.file, input.previous, MAX_CHANGED_LINES) : reloadIndex(input.file, input.previous) };
}

/** The blocks of a table loaded without them: see scanIndex. */
export function scanIndexJob(input: IndexScanInput): JobDone<IndexBlocks | undefined> {
  return { output: scanIndex(input.file, input.signature, input.duplicates) };
}
