/**
 * What lets an index.txt reload parse only what changed. `openssl ca` rewrites the whole file for
 * every revocation (one line changes in place) and every issuance (a line is appended), so a reload
 * of a 1M-line index parsed 116 MB to learn about one line: ~1 s of CPU a reload on the machine
 * measured, taken from the serving thread's neighbours. Here the file is cut into blocks of
 * BLOCK_LINES lines, each remembered by the SHA-256 of its bytes and a fingerprint of the serials
 * its lines hold. A reload scans the new file (read, newlines, hash: ~0.12 s for 1M lines) and
 * parses only the blocks whose bytes differ, provided every changed block still lists the serials
 * it listed (so no line was removed or renumbered; appended lines are new blocks, or new lines at
 * the end of the last one). Otherwise the caller parses the whole file.
 */
import { createHash, type Hash } from "node:crypto";
import type { RowSink } from "./index-lines.ts";
import type { SerialTableBuilder } from "../table/serial-table.ts";

/** Lines per block: a changed line costs the parse of this many (~1 ms). */
export const BLOCK_LINES = 1024;
const DIGEST_BYTES = 32;

/** What a loaded index remembers of each of its blocks, to compare the next version with. */
export interface IndexBlocks {
  /** SHA-256 of each block's bytes, DIGEST_BYTES each. */
  readonly digests: Uint8Array;
  /** Lines in each block (BLOCK_LINES, but for the last one). */
  readonly lines: Uint32Array;
  /** Per block: the sum (mod 2^32) of a hash of each line's serial field, and how many lines are not empty. */
  readonly sums: Uint32Array;
  readonly counts: Uint32Array;
  /**
   * Whether some serial is on more than one line. Without, each serial is one line, so a changed
   * line's row replaces the old one whatever it says (a revoked line no longer has to win over another).
   */
  readonly duplicates: boolean;
}

/** A scanned file: its blocks, where each starts, and the serials of the old last block's old lines. */
export interface BlockScan {
  readonly digests: Uint8Array;
  readonly lines: Uint32Array;
  readonly sums: Uint32Array;
  readonly counts: Uint32Array;
  /** Byte offset of each block's first line, and (last) the file's length. */
  readonly starts: Float64Array;
  /** The sum and count over the first `prefix.lines` lines of block `prefix.block`, when asked. */
  readonly prefixSum: number;
  readonly prefixCount: number;
}

/** Lines of one block whose serials are summed apart: the old last block's old lines, when lines were appended after them. */
export interface BlockPrefix {
  readonly block: number;
  readonly lines: number;
}

const NEWLINE = 0x0a;
const TAB = 0x09;
const FNV_BASIS = 0x811c9dc5;

/** How a BlockScanner reads. */
export interface BlockScanOptions {
  /**
   * Also sum each line's serial field (default true). It triples the cost of a scan (~0.38 s for
   * 1M lines against ~0.12 s), so a reload scans without, then sums only the blocks that changed.
   */
  readonly serials?: boolean;
  readonly prefix?: BlockPrefix | undefined;
  /** The number of the first line fed, when the bytes start at a block of a file (a multiple of BLOCK_LINES). */
  readonly firstLine?: number;
}

/**
 * Cuts bytes fed in order (any chunking) into blocks of BLOCK_LINES lines; hashes each block's bytes
 * and sums a hash of each line's serial field (the fourth). It does not check the lines: a parse does.
 */
export class BlockScanner {
  #hash: Hash = createHash("sha256");
  #linesInBlock = 0;
  #sum = 0;
  #count = 0;
  /** Lines completed so far (all blocks). */
  #line = 0;
  /** Bytes fed so far, and where the open block started. */
  #offset = 0;
  #blockStart = 0;
  /** Whether the last byte fed ended a line (a last line may lack its newline: see finish). */
  #lineOpen = false;
  /** With serials: the start of a line cut by the end of the last chunk fed. */
  #carry: Buffer = Buffer.alloc(0);
  readonly #prefix: BlockPrefix | undefined;
  #prefixSum = 0;
  #prefixCount = 0;
  readonly #digests: Buffer[] = [];
  readonly #lines: number[] = [];
  readonly #sums: number[] = [];
  readonly #counts: number[] = [];
  readonly #starts: number[] = [];

  readonly #serials: boolean;

  constructor(options: BlockScanOptions = {}) {
    this.#prefix = options.prefix;
    this.#serials = options.serials ?? true;
    this.#line = options.firstLine ?? 0;
  }

  feed(bytes: Buffer): void {
    if (bytes.length === 0) return;
    let from = 0;
    let lineStart = 0;
    const serials = this.#serials;
    for (let p = bytes.indexOf(NEWLINE); p >= 0; p = bytes.indexOf(NEWLINE, p + 1)) {
      if (serials && this.#carry.length > 0) {
        const whole = Buffer.concat([this.#carry, bytes.subarray(0, p)]);
        this.#carry = Buffer.alloc(0);
        this.#serialOf(whole, 0, whole.length);
      } else if (serials) {
        this.#serialOf(bytes, lineStart, p);
      }
      lineStart = p + 1;
      if (++this.#linesInBlock < BLOCK_LINES) continue;
      this.#hash.update(bytes.subarray(from, p + 1));
      from = p + 1;
      this.#close(this.#offset + from);
    }
    if (from < bytes.length) this.#hash.update(bytes.subarray(from));
    if (serials && lineStart < bytes.length) this.#carry = Buffer.concat([this.#carry, bytes.subarray(lineStart)]);
    this.#lineOpen = bytes[bytes.length - 1] !== NEWLINE;
    this.#offset += bytes.length;
  }

  /** The blocks; a last line without a newline counts as a line, as IndexLines counts it. */
  finish(): BlockScan {
    if (this.#lineOpen) {
      if (this.#serials) this.#serialOf(this.#carry, 0, this.#carry.length);
      this.#carry = Buffer.alloc(0);
      this.#lineOpen = false;
      this.#linesInBlock++;
    }
    if (this.#linesInBlock > 0) this.#close(this.#offset);
    const starts = new Float64Array(this.#starts.length + 1);
    starts.set(this.#starts);
    starts[this.#starts.length] = this.#offset;
    return {
      digests: new Uint8Array(Buffer.concat(this.#digests)),
      lines: Uint32Array.from(this.#lines),
      sums: Uint32Array.from(this.#sums),
      counts: Uint32Array.from(this.#counts),
      starts,
      prefixSum: this.#prefixSum,
      prefixCount: this.#prefixCount,
    };
  }

  /** Sums the line `bytes[start, end)` (no newline): the bytes between its third and fourth tab. */
  #serialOf(bytes: Buffer, start: number, end: number): void {
    const line = this.#line++;
    let stop = end;
    if (stop > start && bytes[stop - 1] === 0x0d) stop--;
    if (stop === start) return;
    let field = start;
    for (let tabs = 0; tabs < 3 && field >= 0; tabs++) {
      field = bytes.indexOf(TAB, field);
      if (field >= stop) field = -1;
      if (field >= 0) field++;
    }
    let h = FNV_BASIS;
    if (field >= 0) {
      let fieldEnd = bytes.indexOf(TAB, field);
      if (fieldEnd < 0 || fieldEnd > stop) fieldEnd = stop;
      for (let i = field; i < fieldEnd; i++) h = Math.imul(h ^ (bytes[i] ?? 0), 0x01000193);
    }
    h >>>= 0;
    this.#sum = (this.#sum + h) >>> 0;
    this.#count++;
    const prefix = this.#prefix;
    if (prefix !== undefined && Math.floor(line / BLOCK_LINES) === prefix.block && line - prefix.block * BLOCK_LINES < prefix.lines) {
      this.#prefixSum = (this.#prefixSum + h) >>> 0;
      this.#prefixCount++;
    }
  }

  #close(end: number): void {
    this.#digests.push(this.#hash.digest());
    this.#lines.push(this.#linesInBlock);
    this.#sums.push(this.#sum);
    this.#counts.push(this.#count);
    this.#starts.push(this.#blockStart);
    this.#blockStart = end;
    this.#hash = createHash("sha256");
    this.#linesInBlock = 0;
    this.#sum = 0;
    this.#count = 0;
  }
}

/** Sends the rows of lines from `fromLine` (0-based, as IndexLines numbers them) on to `appended`, the others to `changed`. */
export class LineRouter implements RowSink {
  readonly #changed: RowSink;
  readonly #appended: RowSink;
  readonly #fromLine: number;
  readonly #line: () => number;

  constructor(changed: RowSink, appended: RowSink, fromLine: number, currentLine: () => number) {
    this.#changed = changed;
    this.#appended = appended;
    this.#fromLine = fromLine;
    this.#line = currentLine;
  }

  add(...row: Parameters<SerialTableBuilder["add"]>): void {
    if (this.#line() - 1 >= this.#fromLine) this.#appended.add(...row);
    else this.#changed.add(...row);
  }
}

/** What a reload has to do, given the last loaded blocks and a scan of the file now. */
export type ReloadPlan = { readonly kind: "unchanged" } | { readonly kind: "full" } | { readonly kind: "blocks"; readonly changed: readonly number[]; readonly lines: number };

/**
 * Decides from digests and line counts alone: fewer lines than before, or more than
 * `maxChangedLines` changed, take a whole parse. Whether the changed blocks list the same serials
 * is checked on them (blockSerials).
 */
export function planReload(previous: IndexBlocks, scan: BlockScan, maxChangedLines: number): ReloadPlan {
  const before = previous.lines.length;
  const now = scan.lines.length;
  const lastOld = before - 1;
  if (now < before) return { kind: "full" };
  if (before > 0 && (scan.lines[lastOld] ?? 0) < (previous.lines[lastOld] ?? 0)) return { kind: "full" };
  const changed: number[] = [];
  let lines = 0;
  for (let block = 0; block < now; block++) {
    const same =
      block < before &&
      scan.lines[block] === previous.lines[block] &&
      Buffer.compare(scan.digests.subarray(block * DIGEST_BYTES, (block + 1) * DIGEST_BYTES), previous.digests.subarray(block * DIGEST_BYTES, (block + 1) * DIGEST_BYTES)) === 0;
    if (same) continue;
    changed.push(block);
    lines += scan.lines[block] ?? 0;
    if (lines > maxChangedLines) return { kind: "full" };
  }
  return changed.length === 0 ? { kind: "unchanged" } : { kind: "blocks", changed, lines };
}

/**
 * The serials of changed block `block` (its bytes), and whether it still lists the ones it listed
 * (the old last block: on its old lines). When not, lines were removed, moved or renumbered, and
 * only a whole parse can say what the file means.
 */
export function blockSerials(previous: IndexBlocks, block: number, bytes: Buffer): { readonly sum: number; readonly count: number; readonly same: boolean } {
  const lastOld = previous.lines.length - 1;
  const scanner = new BlockScanner({ firstLine: block * BLOCK_LINES, prefix: { block, lines: block === lastOld ? (previous.lines[block] ?? 0) : BLOCK_LINES } });
  scanner.feed(bytes);
  const scan = scanner.finish();
  const sum = scan.sums[0] ?? 0;
  const count = scan.counts[0] ?? 0;
  const same = block > lastOld || (scan.prefixSum === previous.sums[block] && scan.prefixCount === previous.counts[block]);
  return { sum, count, same };
}

/** What a scan remembers for the next reload. */
export function blocksOf(scan: BlockScan, duplicates: boolean): IndexBlocks {
  return { digests: scan.digests, lines: scan.lines, sums: scan.sums, counts: scan.counts, duplicates };
}
