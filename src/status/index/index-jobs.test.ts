import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BLOCK_LINES, BlockScanner } from "./index-blocks.ts";
import { fileSignatures } from "../files/file-changes.ts";
import { loadWholeIndex, reloadIndex, scanIndex, type IndexReload } from "./index-jobs.ts";
import { IndexLines } from "./index-lines.ts";
import { serialOctetsFromHex } from "../serial-key.ts";
import { putRecord, SerialTableBuilder, serialTableFromParts, type SerialTable } from "../table/serial-table.ts";
import { overlaidTable } from "../table/table-overlay.ts";
import { rowsToLayOver } from "./index-changes.ts";

/** One index.txt line as `openssl ca` writes it. */
function line(serial: number, revoked?: { at: string; reason?: string }): string {
  const hex = (0x1000 + serial).toString(16).toUpperCase().padStart(6, "0");
  const field = revoked === undefined ? "" : revoked.reason === undefined ? revoked.at : `${revoked.at},${revoked.reason}`;
  return `${revoked === undefined ? "V" : "R"}\t301231000000Z\t${field}\t${hex}\tunknown\t/CN=certificate ${serial}\n`;
}

/** A deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** What a whole parse of `content` answers: the reference every reload result must equal. */
function wholeParse(content: string): SerialTable {
  const builder = new SerialTableBuilder();
  new IndexLines(builder, "index.txt").feed(Buffer.from(content), 0, Buffer.byteLength(content), true);
  return builder.build();
}

function assertSameAnswers(actual: SerialTable, expected: SerialTable, serials: readonly number[], what: string): void {
  assert.equal(actual.size, expected.size, `${what}: size`);
  for (const serial of serials) {
    const octets = serialOctetsFromHex((0x1000 + serial).toString(16))!;
    assert.deepEqual(actual.lookup(octets), expected.lookup(octets), `${what}: serial ${serial}`);
  }
}

describe("index reload by changed blocks", () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-index-reload-"));
    file = join(dir, "index.txt");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The serving side of a reload (as index-loader.ts and table-source.ts do it): the table, and what the reload did. */
  interface Served {
    readonly base: SerialTable;
    readonly overlay: SerialTableBuilder | undefined;
    readonly result: IndexReload & { kind: "full" | "blocks" };
    readonly did: string;
  }
  const first = (): Served => {
    const whole = loadWholeIndex(file);
    return { base: serialTableFromParts(whole.parts), overlay: undefined, result: whole, did: "full" };
  };
  function follow(state: Served, next: IndexReload): Served {
    if (next.kind === "unchanged") return { ...state, did: "unchanged" };
    if (next.kind === "blocks") {
      const rows = { changed: serialTableFromParts(next.changed), appended: serialTableFromParts(next.appended), duplicates: next.blocks.duplicates };
      const view = state.overlay === undefined ? state.base : overlaidTable(state.base, state.overlay);
      const merged = rowsToLayOver(view, rows, 65_536 - (state.overlay?.size ?? 0));
      if (merged !== "whole") {
        // As the table source lays rows over its table: only those that say something new.
        const overlay = state.overlay ?? (merged.size === 0 ? undefined : new SerialTableBuilder());
        for (const serial of merged.serials()) putRecord(overlay!, serial, merged.lookup(serial)!);
        return { base: state.base, overlay, result: next, did: "blocks" };
      }
      const whole = loadWholeIndex(file);
      return { base: serialTableFromParts(whole.parts), overlay: undefined, result: whole, did: "full after merge" };
    }
    return { base: serialTableFromParts(next.parts), overlay: undefined, result: next, did: "full" };
  }

  test("a revocation in place, appended lines, and both, parse only their blocks and answer as a whole parse", async () => {
    const count = 5 * BLOCK_LINES + 300;
    const lines = Array.from({ length: count }, (_, i) => line(i));
    await writeFile(file, lines.join(""));
    let state = first();
    const all = Array.from({ length: count + 2000 }, (_, i) => i);

    const steps: { change: () => void; expect: string; changedLines?: number; overlay?: number }[] = [
      // The block is parsed, but only the line that says something new is laid over the table.
      { change: () => (lines[2 * BLOCK_LINES + 7] = line(2 * BLOCK_LINES + 7, { at: "260101000000Z", reason: "keyCompromise" })), expect: "blocks", changedLines: BLOCK_LINES, overlay: 1 },
      { change: () => (lines[50] = line(50).replace("/CN=certificate 50", "/CN=renamed")), expect: "blocks", overlay: 1 },
      { change: () => lines.push(line(count), line(count + 1)), expect: "blocks", changedLines: 302, overlay: 3 },
      { change: () => (lines[10] = line(10, { at: "260102000000Z" })), expect: "blocks" },
      { change: () => lines.push(...Array.from({ length: 1500 }, (_, i) => line(count + 2 + i))), expect: "blocks" },
      { change: () => undefined, expect: "unchanged" },
      { change: () => (lines[10] = line(10, { at: "260102000000Z", reason: "superseded" })), expect: "blocks" },
      // Each serial is on one line: a line that says not revoked any more replaces its row too.
      { change: () => (lines[10] = line(10)), expect: "blocks" },
      // An appended line repeating a serial, a removed line, a renumbered serial: only a whole parse can tell what the file says.
      { change: () => lines.push(line(20, { at: "260103000000Z" })), expect: "full after merge" },
      { change: () => lines.pop(), expect: "full" },
      // Two appended lines with one new serial: which counts is a whole parse's call too.
      { change: () => lines.push(line(count + 7000), line(count + 7000, { at: "260104000000Z" })), expect: "full" },
      { change: () => lines.splice(3 * BLOCK_LINES, 1), expect: "full" },
      { change: () => (lines[5] = line(count + 5000)), expect: "full" },
    ];
    for (const [index, step] of steps.entries()) {
      step.change();
      const content = lines.join("");
      await writeFile(file, content);
      const next = reloadIndex(file, state.result.blocks);
      state = follow(state, next);
      const what = `step ${index + 1}`;
      assert.equal(state.did, step.expect, what);
      if (step.changedLines !== undefined && next.kind === "blocks") assert.equal(next.lines, step.changedLines, `${what}: lines parsed`);
      if (step.overlay !== undefined) assert.equal(state.overlay?.size, step.overlay, `${what}: rows laid over the table`);
      const table = state.overlay === undefined ? state.base : overlaidTable(state.base, state.overlay);
      assertSameAnswers(table, wholeParse(content), [...all, count + 5000, count + 7000], what);
    }
  });

  test("random edits, appends and rewrites over many reloads always answer as a whole parse", async () => {
    const next = random(20261201);
    const lines = Array.from({ length: 3 * BLOCK_LINES + 17 }, (_, i) => line(i, i % 7 === 0 ? { at: "250101000000Z", reason: "cessationOfOperation" } : undefined));
    let serial = lines.length;
    await writeFile(file, lines.join(""));
    let state = first();
    const seen = new Set<string>();
    for (let round = 0; round < 40; round++) {
      const edits = 1 + Math.floor(next() * 4);
      for (let e = 0; e < edits; e++) {
        const pick = next();
        const at = Math.floor(next() * lines.length);
        const id = Number.parseInt(lines[at]!.split("\t")[3]!, 16) - 0x1000;
        if (pick < 0.45) lines[at] = line(id, { at: `2601${String(1 + (round % 28)).padStart(2, "0")}000000Z`, reason: next() < 0.5 ? "keyCompromise" : undefined });
        else if (pick < 0.8) lines.push(line(serial++));
        else if (pick < 0.9) lines[at] = line(id);
        else if (pick < 0.95) lines.push(line(id, next() < 0.5 ? { at: "260201000000Z" } : undefined));
        else lines.splice(at, 1);
      }
      const content = lines.join("");
      await writeFile(file, content);
      state = follow(state, reloadIndex(file, state.result.blocks));
      seen.add(state.did);
      const table = state.overlay === undefined ? state.base : overlaidTable(state.base, state.overlay);
      assertSameAnswers(table, wholeParse(content), Array.from({ length: serial }, (_, i) => i), `round ${round + 1}`);
    }
    assert.ok(seen.has("blocks") && (seen.has("full") || seen.has("full after merge")), `both kinds of reload ran: ${[...seen].join(", ")}`);
  });

  test("in a file that repeats a serial, a line that stops saying revoked is settled by a whole parse", async () => {
    const lines = Array.from({ length: 2 * BLOCK_LINES + 5 }, (_, i) => line(i));
    lines[3] = line(3, { at: "250101000000Z", reason: "keyCompromise" });
    lines.push(line(3, { at: "250101000000Z", reason: "keyCompromise" }));
    await writeFile(file, lines.join(""));
    let state = first();
    assert.equal(state.result.blocks.duplicates, true);
    lines[3] = line(3);
    await writeFile(file, lines.join(""));
    state = follow(state, reloadIndex(file, state.result.blocks));
    assert.equal(state.did, "full after merge");
    assert.notEqual(state.base.lookup(serialOctetsFromHex((0x1000 + 3).toString(16))!)?.revokedAt, undefined, "the other line still revokes it");
    lines[BLOCK_LINES + 7] = line(BLOCK_LINES + 7, { at: "260101000000Z" });
    await writeFile(file, lines.join(""));
    state = follow(state, reloadIndex(file, state.result.blocks));
    assert.equal(state.did, "blocks", "a revocation in another block is still a change of blocks");
    assertSameAnswers(state.overlay === undefined ? state.base : overlaidTable(state.base, state.overlay), wholeParse(lines.join("")), Array.from({ length: lines.length }, (_, i) => i), "after both");
  });

  test("a scan after a load without blocks finds what a whole load remembers, unless the file changed since", async () => {
    const lines = Array.from({ length: 2 * BLOCK_LINES + 11 }, (_, i) => line(i, i % 3 === 0 ? { at: "250101000000Z" } : undefined));
    await writeFile(file, lines.join(""));
    const signature = await fileSignatures([file]);
    assert.deepEqual(scanIndex(file, signature, false), loadWholeIndex(file).blocks);
    await writeFile(file, lines.join(""));
    assert.equal(scanIndex(file, signature, false), undefined, "rewritten since: the table may hold other content");
  });

  test("a broken line in a changed block is refused with the file's line number", async () => {
    const lines = Array.from({ length: 2 * BLOCK_LINES + 5 }, (_, i) => line(i));
    await writeFile(file, lines.join(""));
    const whole = loadWholeIndex(file);
    lines[BLOCK_LINES + 9] = "V\tnot-a-time\t\t01\tunknown\t/CN=x\n";
    await writeFile(file, lines.join(""));
    assert.throws(() => reloadIndex(file, whole.blocks), (error: Error) => error.message.includes(`line ${BLOCK_LINES + 10}:`));
  });
});

describe("BlockScanner", () => {
  test("cuts the same blocks however the bytes are chunked, and counts a last line without a newline", () => {
    const content = Buffer.from(Array.from({ length: 2 * BLOCK_LINES + 3 }, (_, i) => line(i)).join("") + "V\t301231000000Z\t\tFFFF\tunknown\t/CN=no newline");
    const whole = new BlockScanner();
    whole.feed(content);
    const a = whole.finish();
    const pieces = new BlockScanner();
    for (let at = 0; at < content.length; at += 97) pieces.feed(content.subarray(at, Math.min(content.length, at + 97)));
    const b = pieces.finish();
    assert.deepEqual([...a.lines], [BLOCK_LINES, BLOCK_LINES, 4]);
    assert.deepEqual(b, a);
    assert.equal(a.starts[3], content.length);
    // Without serials (a reload's first pass), the same blocks.
    const bare = new BlockScanner({ serials: false });
    for (let at = 0; at < content.length; at += 97) bare.feed(content.subarray(at, Math.min(content.length, at + 97)));
    const c = bare.finish();
    assert.deepEqual([c.digests, c.lines, c.starts], [a.digests, a.lines, a.starts]);
    const empty = new BlockScanner();
    assert.deepEqual([...empty.finish().lines], []);
  });
});
