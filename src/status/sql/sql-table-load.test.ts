import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../../clock.ts";
import { CRL_REASON_CODES, crlReasonFromCode } from "../../ocsp/types.ts";
import { createPki, readPemDer } from "../../pki/openssl-pki.ts";
import { SerialTableBuilder } from "../table/serial-table.ts";
import { importAll } from "./import-rows.ts";
import { issuerIdentity } from "./issuer-identity.ts";
import { loadSqlTable } from "./sql-table-load.ts";
import { DEFAULT_SCHEMA, openStoreDatabase } from "./open-database.ts";
import { addStatusText, StatusTextError } from "./status-text.ts";
import type { CertificateRow } from "./status-store.ts";
import { findIssuer } from "./status-store.ts";
import type { TestStore } from "./test-support/stores.ts";
import { testStore } from "./test-support/stores.ts";

/** More rows than one SQLite page (16 384): every shape of row, serials of 1 to 20 octets. */
function generatedRows(count: number): CertificateRow[] {
  const rows: CertificateRow[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + (i % 20);
    const serial = Buffer.alloc(length);
    for (let k = 0; k < length; k++) serial[k] = (i * 131 + k * 17 + (i >> 8)) & 0xff;
    // Minimal and positive: a leading octet of 0x01-0x7f, and i in the last four octets for uniqueness.
    serial[0] = 0x01 + (i % 0x7f);
    if (length >= 5) serial.writeUInt32BE(i, length - 4);
    const revoked = i % 3 !== 0;
    const reasons = Object.values(CRL_REASON_CODES);
    rows.push({
      serial,
      revokedAt: revoked ? 1_600_000_000_000 + i * 1000 : undefined,
      reason: revoked && i % 5 !== 0 ? reasons[i % reasons.length] : undefined,
      invalidityDate: revoked && i % 7 === 0 ? 1_500_000_000_000 - i * 1000 : undefined,
    });
  }
  // Short serials repeat (one octet has 127 values): the first row of a serial is the one stored.
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = Buffer.from(row.serial).toString("hex");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

describe("loadSqlTable", () => {
  let dir: string;
  let issuer: Buffer;
  const stores: TestStore[] = [];
  const rows = generatedRows(20_000);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-table-load-"));
    issuer = await readPemDer((await createPki({ dir })).ca);
  });
  after(async () => {
    for (const store of stores) await store.drop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    test(`${engine}: the loaded table answers every stored row as stored, and nothing else`, async () => {
      const store = await testStore(engine);
      stores.push(store);
      const db = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
      let issuerId: number;
      try {
        await importAll(db, issuerIdentity(issuer), rows, rows.length, systemClock.now());
        issuerId = (await findIssuer(db, issuerIdentity(issuer).keySha256))!;
      } finally {
        await db.close();
      }
      const { table, seq } = await loadSqlTable({ engine, database: store.database, schema: store.schema ?? DEFAULT_SCHEMA, issuerId });
      assert.equal(seq, 1);
      assert.equal(table.size, rows.length);
      for (const row of rows) {
        const want = { revokedAt: row.revokedAt, reason: row.reason === undefined ? undefined : crlReasonFromCode(row.reason), invalidityDate: row.invalidityDate };
        assert.deepEqual(table.lookup(Buffer.from(row.serial)), want, Buffer.from(row.serial).toString("hex"));
      }
      assert.equal(table.lookup(Buffer.from("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "hex")), undefined);
      const other = await loadSqlTable({ engine, database: store.database, schema: store.schema ?? DEFAULT_SCHEMA, issuerId: issuerId + 1 });
      assert.equal(other.table.size, 0);
    });
  }

  test("rejects with the engine's message when the store cannot be read", async () => {
    await assert.rejects(loadSqlTable({ engine: "sqlite", database: join(dir, "missing", "status.db"), schema: DEFAULT_SCHEMA, issuerId: 1 }), /unable to open database file/);
    await assert.rejects(loadSqlTable({ engine: "postgres", database: "postgres://postgres@127.0.0.1:1/test", schema: DEFAULT_SCHEMA, issuerId: 1 }), /ECONNREFUSED/);
  });
});

describe("addStatusText", () => {
  const read = (text: string) => {
    const builder = new SerialTableBuilder();
    const count = addStatusText(text, builder, new Uint8Array(256));
    return { count, table: builder.build() };
  };

  test("reads NULLs, both cases of hex, negative times, and the last row without a separator", () => {
    const { count, table } = read("0A1b,-1000,1,;7F,,,;0102,5,,-7");
    assert.equal(count, 3);
    assert.deepEqual(table.lookup(Buffer.of(0x0a, 0x1b)), { revokedAt: -1000, reason: "keyCompromise", invalidityDate: undefined });
    assert.deepEqual(table.lookup(Buffer.of(0x7f)), { revokedAt: undefined, reason: undefined, invalidityDate: undefined });
    assert.deepEqual(table.lookup(Buffer.of(0x01, 0x02)), { revokedAt: 5, reason: undefined, invalidityDate: -7 });
  });

  for (const [name, text] of [
    ["an odd number of hex digits", "ABC,1,,"],
    ["an empty serial", ",1,,"],
    ["a letter in a number", "AB,1x,,"],
    ["a row cut short", "AB,1,"],
    ["a lone minus sign", "AB,-,,"],
  ] as const) {
    test(`refuses ${name} with StatusTextError`, () => {
      assert.throws(() => read(text), StatusTextError);
    });
  }
});
