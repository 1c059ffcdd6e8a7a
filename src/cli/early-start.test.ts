import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { takePreloadedIndex } from "../status/index/index-preload.ts";
import { startEarly } from "./early-start.ts";

describe("startEarly", () => {
  let dir = "";
  const config = (file: string) => `responders:
  - name: a
    listen: { port: 8080 }
    issuers:
      - certificate: ca.pem
        signer: { key: ca.key }
        sources:
          - { type: crl, files: [a.crl] }
          - { type: index, file: ${file} }
`;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-early-"));
    for (const name of ["a.txt", "b.txt", "c.txt"]) await writeFile(join(dir, name), "V\t291231235959Z\t\t1A\tunknown\t/CN=x\n");
    await writeFile(join(dir, "relative.yaml"), config("a.txt"));
    await writeFile(join(dir, "absolute.yaml"), config(join(dir, "b.txt")));
    await writeFile(join(dir, "several-workers.yaml"), config("c.txt"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("starts loading a one-process serve's index files, a relative path read from the configuration's folder", async () => {
    await startEarly(["serve", "--workers", "1", "--config", join(dir, "relative.yaml")]);
    await startEarly(["serve", "-c", join(dir, "absolute.yaml"), "--workers=1"]);
    for (const name of ["a.txt", "b.txt"]) {
      const preloaded = takePreloadedIndex(join(dir, name));
      assert.ok(preloaded !== undefined, name);
      assert.equal((await preloaded.loaded).table.size, 1);
      assert.equal(takePreloadedIndex(join(dir, name)), undefined, "taken once");
    }
  });

  test("starts nothing for a supervisor, another command, or a file it cannot read", async () => {
    await startEarly(["serve", "--workers", "2", "--config", join(dir, "several-workers.yaml")]);
    await startEarly(["query", "--workers", "1", "--config", join(dir, "several-workers.yaml")]);
    await startEarly(["serve", "--workers", "1", "--config", join(dir, "missing.yaml")]);
    assert.equal(takePreloadedIndex(join(dir, "c.txt")), undefined);
  });
});
