import assert from "node:assert/strict";
import { closeSync, openSync, writeSync } from "node:fs";
import { appendFile, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { recordingLogger } from "../../observability/logger.ts";
import { watchFileChanges } from "./file-changes.ts";
import { watchFile } from "./file-watch.ts";
import { waitUntil } from "../test-support/wait-until.ts";

/** Writes `lines` lines to `file` the way `openssl ca` writes index.txt.new: one write(2) per 4 KiB. */
function writeInSmallPieces(file: string, lines: number): void {
  const fd = openSync(file, "w");
  try {
    const line = Buffer.from("R\t301231000000Z\t250101000000Z,keyCompromise\t0123456789ABCDEF\tunknown\t/CN=some revoked certificate\n");
    let pending = Buffer.alloc(0);
    for (let i = 0; i < lines; i++) {
      pending = Buffer.concat([pending, line]);
      if (pending.length >= 4096) {
        writeSync(fd, pending.subarray(0, 4096));
        pending = pending.subarray(4096);
      }
    }
    writeSync(fd, pending);
  } finally {
    closeSync(fd);
  }
}

describe("watchFile", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-file-watch-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("ignores writes to a neighbour, sees the rename that replaces its file, then follows the new file", async () => {
    const file = join(dir, "index.txt");
    await writeFile(file, "");
    let events = 0;
    const logger = recordingLogger();
    const watch = watchFile(file, () => events++, logger);
    try {
      await watch.rearm();
      // ~2,000 writes of 4 KiB to index.txt.new: each was an event for a watch on the directory.
      writeInSmallPieces(`${file}.new`, 80_000);
      await delay(200);
      assert.equal(events, 0, "writes to another file in the same directory are not events");

      await rename(`${file}.new`, file);
      await waitUntil("the event for the replacement", () => events > 0);
      await watch.rearm();
      await delay(100);
      events = 0;
      await appendFile(file, "V\t301231000000Z\t\t01\tunknown\t/CN=new\n");
      await waitUntil("an event from the new file", () => events > 0);
      assert.deepEqual(logger.records, [], "nothing to warn about");
    } finally {
      watch.close();
    }
  });

  test("a missing file is watched once it appears, and a closed watch is quiet", async () => {
    const file = join(dir, "later.crl");
    let events = 0;
    const logger = recordingLogger();
    const watch = watchFile(file, () => events++, logger);
    await watch.rearm();
    await writeFile(file, "first");
    await watch.rearm();
    await appendFile(file, "more");
    await waitUntil("an event once the file exists", () => events > 0);
    watch.close();
    await delay(50);
    events = 0;
    await appendFile(file, "after close");
    await delay(200);
    assert.equal(events, 0);
    assert.deepEqual(logger.records, [], "a missing file is not a warning");
  });
});

describe("watchFileChanges without polling", () => {
  test("sees each of several replacements by rename, found by the watch alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-file-changes-"));
    const file = join(dir, "ca.crl");
    await writeFile(file, "v0");
    let reloads = 0;
    const changes = watchFileChanges({
      files: [file],
      // An hour: only the watch can find these changes within the test.
      pollIntervalMs: 3_600_000,
      logger: recordingLogger(),
      loadedSignatures: "as first loaded",
      onChange: () => void changes.check().then((version) => version !== undefined && reloads++),
    });
    try {
      // Once the watch is set up, it looks once: the made-up signature differs, so that is a change.
      await waitUntil("the first reload", () => reloads === 1);
      for (let version = 1; version <= 3; version++) {
        await writeFile(`${file}.new`, `v${version}`);
        await rename(`${file}.new`, file);
        await waitUntil(`the reload of replacement ${version}`, () => reloads === version + 1);
      }
    } finally {
      await changes.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
