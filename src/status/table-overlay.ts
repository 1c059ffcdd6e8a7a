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

/**
 * The overlay after `changed` (the rows of the blocks that changed now) joins `overlay` (those of
 * earlier changes), or undefined when the whole file must be parsed instead: when a changed row
 * says not revoked for a serial the table says revoked (a whole parse lets a revoked line win over
 * another line for the same serial, which rows alone cannot tell), or when the overlay would pass
 * `maxRows` (it is then folded into a new whole table).
 */
export function mergeChanges(base: SerialTable, overlay: SerialTable | undefined, changed: SerialTable, maxRows: number): SerialTable | undefined {
  const rows = (overlay?.size ?? 0) + changed.size;
  if (rows > maxRows) return undefined;
  for (const serial of changed.serials()) {
    const now = overlay?.lookup(serial) ?? base.lookup(serial);
    if (now?.revokedAt !== undefined && changed.lookup(serial)?.revokedAt === undefined) return undefined;
  }
  const builder = new SerialTableBuilder({ maxRows: rows, maxPoolBytes: rows * 32, expectedRows: rows });
  // Later rows win over earlier ones (and a revoked one over a not revoked one, checked above not to matter).
  if (overlay !== undefined) for (const serial of overlay.serials()) add(builder, serial, overlay.lookup(serial));
  for (const serial of changed.serials()) add(builder, serial, changed.lookup(serial));
  return builder.build();
}

function add(builder: SerialTableBuilder, serial: Buffer, record: SerialRecord | undefined): void {
  if (record === undefined) return;
  builder.add(serial, 0, serial.length, record.revokedAt ?? Number.NaN, reasonCode(record.reason), record.invalidityDate ?? Number.NaN);
}
