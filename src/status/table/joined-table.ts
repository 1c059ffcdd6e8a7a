/**
 * Tables loaded side by side as parts of one (the sql source loads halves of the serials on two
 * threads), looked up as one. The parts must hold disjoint serials.
 */
import type { SerialRecord, SerialTable } from "./serial-table.ts";

/** One table over `parts`; a lookup asks each part in turn. */
export function joinedTable(parts: readonly SerialTable[]): SerialTable {
  if (parts.length === 1) return parts[0]!;
  return {
    size: parts.reduce((sum, part) => sum + part.size, 0),
    layers: [parts.flatMap((part) => part.layers.flat())],
    lookup(serial: Uint8Array): SerialRecord | undefined {
      for (const part of parts) {
        const found = part.lookup(serial);
        if (found !== undefined) return found;
      }
      return undefined;
    },
    *serials() {
      for (const part of parts) yield* part.serials();
    },
  };
}
