import assert from "node:assert/strict";
import { test } from "node:test";
import { SerialChanges } from "../change-events.ts";
import { NO_REASON, SerialTableBuilder, type SerialTable } from "./serial-table.ts";
import { tableDiffJob } from "./table-diff.ts";
import { overlaidTable } from "./table-overlay.ts";

const serial = (n: number): Buffer => Buffer.from(n.toString(16).padStart(6, "0"), "hex");
/** A table of `rows` in that order: [serial, revokedAt (NaN: good), reason code]. */
function table(rows: readonly (readonly [number, number, number?])[]): SerialTable {
  const builder = new SerialTableBuilder();
  for (const [n, revokedAt, code] of rows) builder.add(serial(n), 0, 3, revokedAt, code ?? NO_REASON, Number.NaN);
  return builder;
}
function diff(before: SerialTable | undefined, after: SerialTable, listsIssued: boolean, limit = 100): string[] | "too-many" {
  const { output } = tableDiffJob({ before: before?.layers ?? [], after: after.layers, listsIssued, limit });
  return output.kind === "too-many" ? "too-many" : [...new SerialChanges(output.serials)].map(({ serial, kind }) => `${Number.parseInt(serial.toString("hex"), 16)}:${kind}`).sort();
}

test("finds exactly what changed between two tables built in the same order, around inserted and removed rows", () => {
  const rows = Array.from({ length: 5000 }, (_, i) => [i + 1, i % 7 === 0 ? 1000 : Number.NaN, i % 7 === 0 ? 1 : undefined] as const);
  const changed = rows.filter(([n]) => n !== 2500).map(([n, at, code]) => (n === 100 ? ([n, 2000, 4] as const) : ([n, at, code] as const)));
  changed.splice(1200, 0, [6000, Number.NaN, undefined], [6001, 3000, 1]);
  assert.deepEqual(diff(table(rows), table(changed), true), ["100:revoked", "2500:removed", "6000:issued", "6001:revoked"]);
  assert.deepEqual(diff(table(rows), table(rows), true), []);
  assert.deepEqual(diff(undefined, table(rows.slice(0, 3)), true), ["1:revoked", "2:issued", "3:issued"]);
  assert.equal(diff(table(rows), table(changed), true, 3), "too-many");
});

test("reads layered tables as their lookups do: a delta CRL's entries over the full CRL's", () => {
  const full = table([[1, 1000, 1], [2, 1000, 6], [3, 1000, 1]]);
  const before = overlaidTable(full, table([[4, 2000, 1]]));
  // The next delta lifts the hold on 2 (removeFromCRL) and drops 4's entry; the full CRL stays.
  const after = overlaidTable(full, table([[2, 3000, 8]]));
  assert.deepEqual(diff(before, after, false), ["2:unrevoked", "4:unrevoked"]);
});
