/**
 * Which rows of a reload by changed blocks (index-jobs.ts reloadIndex) say something new, given the
 * table answers come from now, or word that the whole file must be parsed instead: the rows alone
 * cannot always say what the file means.
 */
import { putRecord, sameRecord, SerialTableBuilder, type SerialTable } from "../table/serial-table.ts";

/** The rows a reload parsed: of lines that were there before, and of lines appended since. */
export interface ChangedRows {
  readonly changed: SerialTable;
  readonly appended: SerialTable;
  /** Whether the file has a serial on more than one line (see IndexBlocks.duplicates). */
  readonly duplicates: boolean;
}

/**
 * The rows to lay over `table`, or "whole" when the whole file must be parsed instead:
 * - an appended line repeats a serial the table has (which line counts is a whole parse's call);
 * - the file has repeated serials and a changed line says not revoked where the table says
 *   revoked (a whole parse lets a revoked line win over another line for the same serial, which
 *   the rows alone cannot tell);
 * - the rows would pass `room` (the overlay is then folded into a new whole table: each lookup
 *   that misses it costs a probe, and it is never smaller than it has grown).
 * Otherwise each serial is on one line, and its new row replaces the old one, whatever it says.
 * Only rows that differ from `table` are kept: a changed block's other 1,023 lines would make the
 * overlay grow by a block per change.
 */
export function rowsToLayOver(table: SerialTable, rows: ChangedRows, room: number): SerialTable | "whole" {
  const { changed, appended } = rows;
  for (const serial of appended.serials()) if (table.lookup(serial) !== undefined) return "whole";
  const differing: Buffer[] = [];
  for (const serial of changed.serials()) {
    const before = table.lookup(serial);
    const after = changed.lookup(serial);
    if (rows.duplicates && before?.revokedAt !== undefined && after?.revokedAt === undefined) return "whole";
    if (!sameRecord(before, after)) differing.push(serial);
  }
  const total = differing.length + appended.size;
  if (total > room) return "whole";
  const builder = new SerialTableBuilder({ maxRows: total, maxPoolBytes: total * 32, expectedRows: total });
  for (const serial of differing) putRecord(builder, serial, changed.lookup(serial)!);
  for (const serial of appended.serials()) putRecord(builder, serial, appended.lookup(serial)!);
  return builder;
}
