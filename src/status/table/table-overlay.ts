/**
 * A whole table with the rows of the blocks changed since it was parsed laid over it (see
 * index-blocks.ts): lookups ask the overlay first. Both are SerialTables, so a lookup stays two
 * probes into typed arrays and nothing per row lives on the garbage-collected heap.
 */
import { reasonCode, SerialTableBuilder, type SerialRecord, type SerialTable } from "./serial-table.ts";

/** `base` with `overlay`'s rows in front. */
export function overlaidTable(base: SerialTable, overlay: SerialTable): SerialTable {
  let added = 0;
  for (const serial of overlay.serials()) if (base.lookup(serial) === undefined) added++;
  return {
    size: base.size + added,
    lookup: (serial) => overlay.lookup(serial) ?? base.lookup(serial),
    *serials() {
      yield* base.serials();
      for (const serial of overlay.serials()) if (base.lookup(serial) === undefined) yield serial;
    },
  };
}

/** The rows a reload parsed (index-reload.ts): of lines that were there before, and of lines appended since. */
export interface ChangedRows {
  readonly changed: SerialTable;
  readonly appended: SerialTable;
  /** Whether the file has a serial on more than one line (see IndexBlocks.duplicates). */
  readonly duplicates: boolean;
}

/**
 * The overlay after `rows` (of the blocks that changed now) join `overlay` (those of earlier
 * changes), or `whole` when the whole file must be parsed instead:
 * - an appended line repeats a serial the table has (which line counts is a whole parse's call);
 * - the file has repeated serials and a changed line says not revoked where the table says
 *   revoked (a whole parse lets a revoked line win over another line for the same serial, which
 *   the rows alone cannot tell);
 * - the overlay would pass `maxRows` (it is then folded into a new whole table).
 * Otherwise each serial is on one line, and its new row replaces the old one, whatever it says.
 */
export function mergeChanges(base: SerialTable, overlay: SerialTable | undefined, rows: ChangedRows, maxRows: number): MergedChanges {
  const { changed, appended } = rows;
  const now = (serial: Buffer) => overlay?.lookup(serial) ?? base.lookup(serial);
  for (const serial of appended.serials()) if (now(serial) !== undefined) return WHOLE;
  // Only the rows that say something new join the overlay: a changed block's other 1,023 lines
  // would make it grow by a block per change, and the merge (on the serving thread) with it.
  const differing: Buffer[] = [];
  for (const serial of changed.serials()) {
    const before = now(serial);
    const after = changed.lookup(serial);
    if (rows.duplicates && before?.revokedAt !== undefined && after?.revokedAt === undefined) return WHOLE;
    if (!sameRecord(before, after)) differing.push(serial);
  }
  if (differing.length === 0 && appended.size === 0) return { overlay };
  const total = (overlay?.size ?? 0) + differing.length + appended.size;
  if (total > maxRows) return WHOLE;
  const builder = new SerialTableBuilder({ maxRows: total, maxPoolBytes: total * 32, expectedRows: total });
  if (overlay !== undefined) for (const serial of overlay.serials()) put(builder, serial, overlay.lookup(serial));
  for (const serial of differing) put(builder, serial, changed.lookup(serial));
  for (const serial of appended.serials()) put(builder, serial, appended.lookup(serial));
  return { overlay: builder.build() };
}

/** What a merge gives: the new overlay (none when nothing differs from the whole table), or word that the whole file must be parsed. */
export type MergedChanges = { readonly whole: true } | { readonly whole?: false; readonly overlay: SerialTable | undefined };
const WHOLE: MergedChanges = { whole: true };

function sameRecord(a: SerialRecord | undefined, b: SerialRecord | undefined): boolean {
  return a?.revokedAt === b?.revokedAt && a?.reason === b?.reason && a?.invalidityDate === b?.invalidityDate && (a === undefined) === (b === undefined);
}

function put(builder: SerialTableBuilder, serial: Buffer, record: SerialRecord | undefined): void {
  if (record === undefined) return;
  builder.put(serial, 0, serial.length, record.revokedAt ?? Number.NaN, reasonCode(record.reason), record.invalidityDate ?? Number.NaN);
}
