import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runRenewalCommand } from "./renewal-command.ts";
import { tryLock } from "./renewal-lock.ts";

describe("runRenewalCommand", () => {
  test("feeds the request on standard input and resolves with standard output, with the environment given", async () => {
    const { stdout } = await runRenewalCommand(["/bin/sh", "-c", 'tr a-z A-Z; echo "$VOUCH_SIGNER_NAME"'], "request\n", 5000, { VOUCH_SIGNER_NAME: "signer-x" });
    assert.equal(stdout, "REQUEST\nsigner-x\n");
  });

  test("a non-zero exit rejects with the code and the last line of standard error", async () => {
    await assert.rejects(runRenewalCommand(["/bin/sh", "-c", "echo first >&2; echo 'CA offline' >&2; exit 3"], "", 5000, {}), /\/bin\/sh exited with 3: CA offline$/);
  });

  test("a command that runs past the timeout is killed and rejects", async () => {
    const started = Date.now();
    await assert.rejects(runRenewalCommand(["/bin/sh", "-c", "sleep 30"], "", 200, {}), /\/bin\/sh timed out after 200 ms/);
    assert.ok(Date.now() - started < 10_000);
  });

  test("a program that does not exist rejects saying so; one that ignores its input still succeeds", async () => {
    await assert.rejects(runRenewalCommand(["/nonexistent/issue"], "", 5000, {}), /cannot run \/nonexistent\/issue: .*ENOENT/);
    assert.equal((await runRenewalCommand(["/bin/echo", "issued"], "x".repeat(1 << 20), 5000, {})).stdout, "issued\n");
  });
});

describe("tryLock", () => {
  test("one holder at a time; released, it can be taken again; a stale lock is taken over", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "vouch-lock-")), ".renewal.lock");
    const release = await tryLock(file, 60_000, 1_000_000);
    assert.ok(release !== undefined);
    assert.match(await readFile(file, "utf8"), /"pid":\d+/);
    assert.equal(await tryLock(file, 60_000, 1_030_000), undefined, "held, and not stale yet");
    await release();
    const again = await tryLock(file, 60_000, 1_030_000);
    assert.ok(again !== undefined);
    assert.ok((await tryLock(file, 60_000, 1_030_000 + 60_001)) !== undefined, "a holder older than staleAfter is taken over");
    await writeFile(file, "not json");
    assert.ok((await tryLock(file, 60_000, 2_000_000)) !== undefined, "an unreadable lock counts as stale");
  });
});
