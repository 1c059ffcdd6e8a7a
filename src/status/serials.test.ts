/**
 * OpenedSource.serials (for response pre-production): the index and memory sources list every
 * serial they know, as minimal INTEGER content; an issuer's data (sourceData) lists the union.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../observability/logger.ts";
import { makeTestPki } from "../ocsp/test-support/test-pki.ts";
import { memorySource } from "./memory-source.ts";
import { openIndexSource } from "./index/index-loader.ts";
import { sourceData, type SourceData } from "./source-data.ts";
import type { OpenedSource } from "./status-source.ts";

let issuer: Buffer;
before(() => {
  const pki = makeTestPki();
  issuer = pki.caDer;
  pki.cleanup();
});

const hex = (source: OpenedSource | SourceData): string[] => [...source.serials!()].map((serial) => serial.toString("hex")).sort();

describe("serials()", () => {
  test("the index source lists every line's serial, revoked ones included, minimal", async () => {
    const folder = await mkdtemp(join(tmpdir(), "vouch-serials-"));
    const file = join(folder, "index.txt");
    await writeFile(
      file,
      ["V\t301231235959Z\t\t01\tunknown\t/CN=a", "R\t301231235959Z\t240101000000Z,keyCompromise\t0080\tunknown\t/CN=b", "V\t301231235959Z\t\t8F0123456789ABCDEF\tunknown\t/CN=c", ""].join("\n"),
    );
    const source = await openIndexSource({ file, issuer, clock: systemClock, logger: silentLogger });
    try {
      assert.deepEqual(hex(source), ["0080", "008f0123456789abcdef", "01"]);
    } finally {
      await source.close();
    }
    assert.deepEqual([...source.serials!()], [], "nothing after close");
  });

  test("the memory source lists its entries", () => {
    const source = memorySource({ issuer, entries: new Map([["0a", { kind: "good" }], ["FF", { kind: "unknown" }]]), listsIssued: true, clock: systemClock });
    assert.deepEqual(hex(source), ["00ff", "0a"]);
  });

  test("an issuer's data lists one source's serials, or the union of several, each serial once; sources without them have none", () => {
    const a = memorySource({ issuer, entries: new Map([["01", { kind: "good" }], ["02", { kind: "good" }]]), listsIssued: true, clock: systemClock });
    const b = memorySource({ issuer, entries: new Map([["02", { kind: "good" }], ["03", { kind: "good" }]]), listsIssued: true, clock: systemClock });
    assert.deepEqual(hex(sourceData([a])), ["01", "02"]);
    assert.deepEqual(hex(sourceData([a, b])), ["01", "02", "03"]);
    const silent: OpenedSource = { status: async () => undefined, close: async () => {} };
    assert.equal(sourceData([silent]).serials, undefined);
    assert.equal(sourceData([silent, silent]).serials, undefined);
  });
});
