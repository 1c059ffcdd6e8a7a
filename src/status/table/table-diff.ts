/**
 * Which serials answer differently in a new whole table than in the one it replaces, for the change
 * events (change-events.ts). It runs as a job on a loading thread, which reads both tables where
 * they are (they live in shared memory), or, for small tables, on the serving thread itself
 * (table-source.ts MAX_ROWS_COMPARED_HERE): each row of each side is found in the other and its record
 * compared in the arrays, allocating nothing but for the serials that changed. Both tables were
 * mostly built in the same order (a file's lines, a CRL's entries sorted by openssl, a store's rows
 * by serial), so a row is first looked for at the same distance from its position as the last one
 * found, a sequential read; only where that misses (around an inserted or removed serial) is it found
 * by a hash probe, which on a million entries is a cache miss each (~1 s for both sides, against
 * ~0.15 s this way, measured with the 1M-line index of bench/source-ready.ts).
 */
import { changeKind, SerialChangesBuilder, type SerialChangesParts } from "../change-events.ts";
import type { JobDone } from "../loading-jobs.ts";
import { recordOf, rowIn, sameRow, type SerialTableParts, type TableLayer } from "./serial-table.ts";

export interface TableDiffInput {
  /** The table in use until now (no layers: there was none), and the new one. */
  readonly before: readonly TableLayer[];
  readonly after: readonly TableLayer[];
  /** Whether the data lists every issued certificate (see TableLoader.listsIssued). */
  readonly listsIssued: boolean;
  /** More changed serials than this are not listed (the caller then says "everything" changed). */
  readonly limit: number;
}

/** The changed serials, or word that there were more than the limit. */
export type TableDiff = { readonly kind: "serials"; readonly serials: SerialChangesParts } | { readonly kind: "too-many" };

/** A row found in a layered table: the tables' arrays, and the row. */
interface Found {
  parts: SerialTableParts | undefined;
  row: number;
}

export function tableDiffJob(input: TableDiffInput): JobDone<TableDiff> {
  const changes = new SerialChangesBuilder();
  const complete = compare(input.after, input.before, "after", input, changes) && compare(input.before, input.after, "before", input, changes);
  if (!complete) return { output: { kind: "too-many" } };
  const serials = changes.parts();
  return { output: { kind: "serials", serials }, transfer: [serials.pool.buffer, serials.ends.buffer, serials.kinds.buffer] as ArrayBuffer[] };
}

/**
 * Adds to `changes` the serials of `side` that answer differently in `other` (`side` is the new
 * table or the old one, as `which` says; serials both list are compared once, from the new side).
 * Returns false once more than the limit changed.
 */
function compare(side: readonly TableLayer[], other: readonly TableLayer[], which: "after" | "before", input: TableDiffInput, changes: SerialChangesBuilder): boolean {
  const found: Found = { parts: undefined, row: -1 };
  for (const [index, layer] of side.entries()) {
    for (const [part, parts] of layer.entries()) {
      // The table in the other side's same place was most likely built from the same input, in the same order.
      const partner = other[index]?.[part];
      let offset = 0;
      for (let row = 0; row < parts.count; row++) {
        const start = parts.start[row] ?? 0;
        const end = start + (parts.length[row] ?? 0);
        const h = parts.hash[row] ?? 0;
        // A serial a layer above also lists is that layer's to answer for.
        if (find(side, index, parts.pool, start, end, h, found)) continue;
        let listedThere: boolean;
        if (partner !== undefined && !find(other, index, parts.pool, start, end, h, found) && sameSerial(parts, row, partner, row + offset)) {
          found.parts = partner;
          found.row = row + offset;
          listedThere = true;
        } else {
          listedThere = find(other, other.length, parts.pool, start, end, h, found);
          if (listedThere && found.parts === partner) offset = found.row - row;
        }
        if (listedThere && (which === "before" || sameRow(parts, row, found.parts!, found.row))) continue;
        const mine = recordOf(parts, row);
        const theirs = listedThere ? recordOf(found.parts!, found.row) : undefined;
        const kind = which === "after" ? changeKind(theirs, mine, input.listsIssued) : changeKind(mine, theirs, input.listsIssued);
        if (kind === undefined) continue;
        changes.add(parts.pool.subarray(start, end), kind);
        if (changes.size > input.limit) return false;
      }
    }
  }
  return true;
}

/** Whether row `a` of `left` and row `b` of `right` (if it exists) hold the same serial. */
function sameSerial(left: SerialTableParts, a: number, right: SerialTableParts, b: number): boolean {
  if (b < 0 || b >= right.count || left.hash[a] !== right.hash[b] || left.length[a] !== right.length[b]) return false;
  const length = left.length[a] ?? 0;
  const from = left.start[a] ?? 0;
  const to = right.start[b] ?? 0;
  for (let k = 0; k < length; k++) if (left.pool[from + k] !== right.pool[to + k]) return false;
  return true;
}

/** Whether the first `layers` of `table` list the serial `pool[start, end)` (hash `h`); sets `found` to where. */
function find(table: readonly TableLayer[], layers: number, pool: Uint8Array, start: number, end: number, h: number, found: Found): boolean {
  for (let index = 0; index < layers; index++) {
    for (const parts of table[index]!) {
      const row = rowIn(parts, pool, start, end, h);
      if (row >= 0) {
        found.parts = parts;
        found.row = row;
        return true;
      }
    }
  }
  return false;
}
