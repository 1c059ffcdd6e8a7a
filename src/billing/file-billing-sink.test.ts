import assert from "node:assert/strict";
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { recordingLogger, silentLogger } from "../observability/logger.ts";
import { billingSinkContract, contractRecord, contractRecordId } from "./billing-sink.contract.ts";
import type { BillingRecord } from "./billing-sink.ts";
import { fileBillingSink } from "./file-billing-sink.ts";
import { readFileBillingRecords } from "./read-file-billing.ts";

const root = await mkdtemp(join(tmpdir(), "vouch-file-billing-"));
after(() => rm(root, { recursive: true, force: true }));
const clock = fixedClock("2026-11-05T10:00:00Z");

async function readAll(directory: string, since = new Date(0), onMalformed?: (file: string, line: number) => void): Promise<BillingRecord[]> {
  const records: BillingRecord[] = [];
  for await (const record of readFileBillingRecords(directory, since, { onMalformed })) records.push(record);
  return records;
}

billingSinkContract(
  "fileBillingSink",
  async ({ place, failing, onFlush, maxDelayMs }) => {
    const directory = join(root, place);
    const sink = fileBillingSink({ directory, clock, logger: silentLogger, onFlush, maxDelayMs });
    if (failing) {
      // Works for root too (a read-only folder does not stop root): the folder becomes a file.
      await rm(directory, { recursive: true });
      await writeFile(directory, "not a folder");
    }
    return sink;
  },
  (place) => readAll(join(root, place)),
);

test("records go to the file of their own UTC day, so files rotate at midnight UTC", async () => {
  const directory = join(root, "rotation");
  const sink = fileBillingSink({ directory, clock, logger: silentLogger, prefix: "acme" });
  const late = { ...contractRecord(1), time: new Date("2026-11-05T23:59:59.999Z") };
  const early = { ...contractRecord(2), time: new Date("2026-11-06T00:00:00.000Z") };
  const later = { ...contractRecord(3), time: new Date("2026-11-06T00:00:00.001Z") };
  await Promise.all([sink.write(late), sink.write(early), sink.write(later)]);
  await sink.close();
  assert.deepEqual((await readdir(directory)).sort(), ["acme-2026-11-05.jsonl", "acme-2026-11-06.jsonl"]);
  assert.equal((await readFile(join(directory, "acme-2026-11-05.jsonl"), "utf8")).split("\n").length, 2);
  const sinceMidnight: number[] = [];
  for await (const record of readFileBillingRecords(directory, new Date("2026-11-06T00:00:00.001Z"), { prefix: "acme" })) sinceMidnight.push(contractRecordId(record));
  assert.deepEqual(sinceMidnight, [3], "the reader skips earlier days' files and earlier records");
});

test("each line is one JSON object with fixed field names, absent values as null", async () => {
  const directory = join(root, "line-format");
  const sink = fileBillingSink({ directory, clock, logger: silentLogger });
  await sink.write({
    time: new Date("2026-11-05T10:00:00.123Z"),
    responder: "acme",
    responderUrl: "http://ocsp.example/",
    clientAddress: "192.0.2.7",
    requestor: "CN=signer",
    tlsSubject: "CN=tls client",
    signerSubject: "CN=signer",
    authorizedBy: "tls",
    outcome: "tryLater",
    source: undefined,
    singleRequests: 2,
    certificates: [{ issuerKeyHash: "0a0b", issuer: undefined, serial: "1f", status: "unknown" }],
  });
  await sink.close();
  assert.equal(
    await readFile(join(directory, "billing-2026-11-05.jsonl"), "utf8"),
    '{"time":"2026-11-05T10:00:00.123Z","responder":"acme","responderUrl":"http://ocsp.example/","clientAddress":"192.0.2.7",' +
      '"requestor":"CN=signer","tlsSubject":"CN=tls client","signerSubject":"CN=signer","authorizedBy":"tls","outcome":"tryLater","source":null,"singleRequests":2,' +
      '"certificates":[{"issuerKeyHash":"0a0b","issuer":null,"serial":"1f","status":"unknown"}]}\n',
  );
});

/** Wraps FileHandle.prototype.datasync for the rest of a test, counting calls; `fail` makes the next call throw. */
async function spyOnDatasync(directory: string) {
  const probe = await open(join(directory, "probe"), "w");
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.datasync;
  const spy = { started: 0, completed: 0, failNext: false, restore: () => void (prototype.datasync = original) };
  prototype.datasync = async function (this: FileHandle) {
    spy.started++;
    if (spy.failNext) {
      spy.failNext = false;
      throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    }
    await original.call(this);
    spy.completed++;
  };
  return spy;
}

test("every write resolves after an fdatasync that began after it, with far fewer fdatasyncs than writes", async () => {
  const directory = join(root, "fdatasync");
  await mkdir(directory);
  const spy = await spyOnDatasync(directory);
  try {
    const sink = fileBillingSink({ directory, clock, logger: silentLogger });
    const writes = Array.from({ length: 500 }, async (_, id) => {
      const startedBefore = spy.started;
      await sink.write(contractRecord(id));
      assert.ok(spy.completed > startedBefore, `write ${id} resolved before an fdatasync covering it completed`);
    });
    await Promise.all(writes);
    await sink.close();
    assert.ok(spy.completed >= 1 && spy.completed < 50, `${spy.completed} fdatasyncs for 500 writes`);
  } finally {
    spy.restore();
  }
});

test("a failed fdatasync rejects its batch, cuts its lines back out, and the next batch succeeds", async () => {
  const directory = join(root, "fsync-failure");
  await mkdir(directory);
  const logger = recordingLogger();
  const spy = await spyOnDatasync(directory);
  try {
    const sink = fileBillingSink({ directory, clock, logger });
    await sink.write(contractRecord(0));
    spy.failNext = true;
    await assert.rejects(Promise.all([sink.write(contractRecord(1)), sink.write(contractRecord(2))]), /EIO/);
    await sink.write(contractRecord(3));
    await sink.close();
  } finally {
    spy.restore();
  }
  assert.deepEqual((await readAll(directory)).map(contractRecordId), [0, 3]);
  assert.ok(logger.records.some((record) => record.level === "error" && record.message.includes("durable")));
});

test("a write error rejects the batch and the sink reopens the file for the next batch", async () => {
  const directory = join(root, "reopen");
  const sink = fileBillingSink({ directory, clock, logger: silentLogger });
  await sink.write(contractRecord(0));
  // Swap the day's file for a folder: the open handle still works, so force a reopen through a new day.
  const nextDay = { ...contractRecord(1), time: new Date("2026-11-06T08:00:00Z") };
  await mkdir(join(directory, "billing-2026-11-06.jsonl"));
  await assert.rejects(sink.write(nextDay), /EISDIR|illegal operation/i);
  await rm(join(directory, "billing-2026-11-06.jsonl"), { recursive: true });
  await sink.write(nextDay);
  await sink.write(contractRecord(2));
  await sink.close();
  assert.deepEqual((await readAll(directory)).map(contractRecordId), [0, 2, 1]);
});

test("two sinks sharing a folder (two responders) append whole lines to the same day file", async () => {
  const directory = join(root, "shared");
  const sinks = [1, 2].map(() => fileBillingSink({ directory, clock, logger: silentLogger }));
  await Promise.all(sinks.flatMap((sink, index) => Array.from({ length: 500 }, (_, id) => sink.write(contractRecord(index * 500 + id)))));
  await Promise.all(sinks.map((sink) => sink.close()));
  const malformed: number[] = [];
  const ids = (await readAll(directory, new Date(0), (_, line) => malformed.push(line))).map(contractRecordId);
  assert.deepEqual(malformed, []);
  assert.deepEqual(
    ids.sort((a, b) => a - b),
    Array.from({ length: 1_000 }, (_, id) => id),
  );
});

test("a torn last line left by a crash is ended before the next append, and skipped by the reader", async () => {
  const directory = join(root, "torn");
  await mkdir(directory);
  await writeFile(join(directory, "billing-2026-11-05.jsonl"), '{"time":"2026-11-05T09:00:00.000Z","respon');
  const sink = fileBillingSink({ directory, clock, logger: silentLogger });
  await sink.write(contractRecord(5));
  await sink.close();
  const malformed: number[] = [];
  assert.deepEqual((await readAll(directory, new Date(0), (_, line) => malformed.push(line))).map(contractRecordId), [5]);
  assert.deepEqual(malformed, [1]);
});

test("fileBillingSink refuses unusable options with ConfigError naming the field", async () => {
  const file = join(root, "a-file");
  await writeFile(file, "");
  const fieldOf = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      return error instanceof ConfigError ? error.field : `not a ConfigError: ${String(error)}`;
    }
    return "no error";
  };
  assert.equal(fieldOf(() => fileBillingSink({ directory: join(file, "billing"), clock, logger: silentLogger })), "directory");
  assert.equal(fieldOf(() => fileBillingSink({ directory: "", clock, logger: silentLogger })), "directory");
  assert.equal(fieldOf(() => fileBillingSink({ directory: root, clock, logger: silentLogger, prefix: "../escape" })), "prefix");
  assert.equal(fieldOf(() => fileBillingSink({ directory: root, clock, logger: silentLogger, maxBatch: 0 })), "maxBatch");
});
