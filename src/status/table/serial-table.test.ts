import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { NO_REASON, SerialTableBuilder, serialTableFromParts, type SerialTableParts } from "./serial-table.ts";

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

  test("a table (grown past its first size) lives in SharedArrayBuffers, answers as its builder does while it grows, and is shared, not transferred, across threads", async () => {
    const builder = new SerialTableBuilder({ maxRows: 16, maxPoolBytes: 16, expectedRows: 16 });
    for (let i = 0; i < 5_000; i++) builder.add(Buffer.from(`${1000 + i}`, "latin1"), 0, 4, i % 2 === 0 ? i : Number.NaN, i % 2 === 0 ? 1 : NO_REASON, Number.NaN);
    const shared = builder.parts();
    const views = (parts: SerialTableParts) => [parts.pool, parts.slots, parts.start, parts.length, parts.hash, parts.revokedAt, parts.reason, parts.invalidity];
    assert.ok(views(shared).every((view) => view.buffer instanceof SharedArrayBuffer));
    assert.equal(builder.size, 5_000);
    assert.equal([...builder.serials()].length, 5_000);
    const table = serialTableFromParts(shared);
    for (let i = 0; i < 5_000; i += 7) assert.deepEqual(table.lookup(Buffer.from(`${1000 + i}`, "latin1")), builder.lookup(Buffer.from(`${1000 + i}`, "latin1")));
    assert.equal(builder.lookup(Buffer.from("0999", "latin1")), undefined);
    // Another thread writes a mark into the pool's spare end: this thread sees it, as the arrays are one memory.
    const worker = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.once('message', (pool) => { pool[pool.length - 1] = 42; parentPort.postMessage('done'); });", { eval: true });
    worker.postMessage(shared.pool);
    await once(worker, "message");
    await worker.terminate();
    assert.equal(shared.pool[shared.pool.length - 1], 42);
  });
});
