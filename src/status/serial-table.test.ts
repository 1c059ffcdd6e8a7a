import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NO_REASON, SerialTableBuilder } from "./serial-table.ts";

describe("SerialTableBuilder", () => {
  test("finds every serial of a table that grew many times, in any padding", () => {
    const builder = new SerialTableBuilder();
    const serial = Buffer.alloc(9);
    for (let i = 0; i < 50_000; i++) {
      serial.writeUInt8(0x10, 0);
      serial.writeBigUInt64BE(BigInt(i) * 2654435761n, 1);
      builder.add(serial, 0, serial.length, i, i % 3 === 0 ? 1 : NO_REASON, Number.NaN);
    }
    const table = builder.build();
    assert.equal(table.size, 50_000);
    for (const i of [0, 1, 777, 49_999]) {
      serial.writeBigUInt64BE(BigInt(i) * 2654435761n, 1);
      assert.equal(table.lookup(serial)?.revokedAt, i);
      assert.equal(table.lookup(Buffer.concat([Buffer.of(0, 0), serial]))?.revokedAt, i, "padded");
    }
    assert.equal(table.lookup(Buffer.of(0x7f)), undefined);
  });

  test("keeps negative and positive spellings of the same octets apart", () => {
    const builder = new SerialTableBuilder();
    builder.add(Buffer.of(0x00, 0xab), 0, 2, 1, NO_REASON, Number.NaN);
    builder.add(Buffer.of(0xab), 0, 1, 2, NO_REASON, Number.NaN);
    const table = builder.build();
    assert.equal(table.lookup(Buffer.of(0x00, 0xab))?.revokedAt, 1);
    assert.equal(table.lookup(Buffer.of(0xff, 0xab))?.revokedAt, 2);
  });

  test("lets a revoked row win over a later not-revoked row, and a later revoked row replace an earlier one", () => {
    const builder = new SerialTableBuilder();
    builder.add(Buffer.of(1), 0, 1, 10, 1, Number.NaN);
    builder.add(Buffer.of(1), 0, 1, Number.NaN, NO_REASON, Number.NaN);
    builder.add(Buffer.of(2), 0, 1, 10, 1, Number.NaN);
    builder.add(Buffer.of(2), 0, 1, 20, 4, 5);
    const table = builder.build();
    assert.deepEqual(table.lookup(Buffer.of(1)), { revokedAt: 10, reason: "keyCompromise", invalidityDate: undefined });
    assert.deepEqual(table.lookup(Buffer.of(2)), { revokedAt: 20, reason: "superseded", invalidityDate: 5 });
    assert.equal(table.size, 2);
  });
});
