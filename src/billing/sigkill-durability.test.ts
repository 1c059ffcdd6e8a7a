import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import type { TestContext } from "node:test";
import { systemClock } from "../clock.ts";
import type { BillingRecord } from "./billing-sink.ts";
import { readFileBillingRecords } from "./read-file-billing.ts";
import { contractRecordId } from "./test-support/contract-records.ts";
import { dropTables, readPostgresRecords } from "./test-support/postgres.ts";

const writer = join(import.meta.dirname, "test-support", "crash-writer.ts");
const tablePrefix = `vbk_p${process.pid}_`;
const root = await mkdtemp(join(tmpdir(), "vouch-billing-kill-"));
after(async () => {
  await rm(root, { recursive: true, force: true });
  await dropTables(tablePrefix);
});

/**
 * Runs the crash writer, SIGKILLs it once `killAfter` writes were acknowledged (the writer is then
 * mid-batch: 32 writes are always in flight), and returns the ids it acknowledged, every one of them.
 */
async function acknowledgedBeforeKill(t: TestContext, args: string[], killAfter: number): Promise<Set<number>> {
  const child = spawn(process.execPath, [writer, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const acknowledged = new Set<number>();
  const flushes: number[] = [];
  let started: number | undefined;
  let killedAt: number | undefined;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  // Reading to the end of the pipe, after the kill too: what was printed before it counts.
  for await (const line of createInterface({ input: child.stdout })) {
    const [word, value] = line.split(" ");
    if (word === "flush") flushes.push(Number(value));
    if (word !== "ack") continue;
    started ??= systemClock.now();
    acknowledged.add(Number(value));
    if (acknowledged.size >= killAfter && killedAt === undefined) {
      killedAt = systemClock.now();
      child.kill("SIGKILL");
    }
  }
  assert.equal(await exited, "SIGKILL", "the writer was killed, not finished");
  const seconds = ((killedAt ?? systemClock.now()) - (started ?? 0)) / 1000;
  const mean = flushes.reduce((sum, size) => sum + size, 0) / Math.max(flushes.length, 1);
  t.diagnostic(`${acknowledged.size} acknowledged, ${flushes.length} flushes (mean ${mean.toFixed(1)}, max ${Math.max(...flushes)} records), ~${Math.round(acknowledged.size / seconds)} records/s`);
  return acknowledged;
}

function missing(acknowledged: Set<number>, stored: BillingRecord[]): number[] {
  const ids = new Set(stored.map(contractRecordId));
  return [...acknowledged].filter((id) => !ids.has(id));
}

test("file sink: after SIGKILL mid-run, every acknowledged write has its record in the file", async (t) => {
  const directory = join(root, "file");
  const acknowledged = await acknowledgedBeforeKill(t, ["file", directory], 5_000);
  const stored: BillingRecord[] = [];
  for await (const record of readFileBillingRecords(directory, new Date(0))) stored.push(record);
  assert.deepEqual(missing(acknowledged, stored), []);
  assert.ok(stored.length >= acknowledged.size);
});

test("postgres sink: after SIGKILL mid-run, every acknowledged write has its row in the table", async (t) => {
  const table = `${tablePrefix}kill`;
  const acknowledged = await acknowledgedBeforeKill(t, ["postgres", table], 5_000);
  const stored = await readPostgresRecords(table);
  assert.deepEqual(missing(acknowledged, stored), []);
  assert.ok(stored.length >= acknowledged.size);
});
