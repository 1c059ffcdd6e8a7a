/**
 * A whole table with the rows changed since it was loaded laid over it: lookups ask the overlay
 * first. Both are SerialTables, so a lookup stays two probes into typed arrays and nothing per row
 * lives on the garbage-collected heap.
 */
import type { SerialTable } from "./serial-table.ts";

/** `base` with `overlay`'s rows in front (as they are now: build it again after the overlay grows). */
export function overlaidTable(base: SerialTable, overlay: SerialTable): SerialTable {
  let added = 0;
  for (const serial of overlay.serials()) if (base.lookup(serial) === undefined) added++;
  return {
    size: base.size + added,
    layers: [...overlay.layers, ...base.layers],
    lookup: (serial) => overlay.lookup(serial) ?? base.lookup(serial),
    *serials() {
      yield* base.serials();
      for (const serial of overlay.serials()) if (base.lookup(serial) === undefined) yield serial;
    },
  };
}
