/**
 * Issue 14's promise within one instance: "not one good answer for a revoked certificate after the
 * first revoked answer from the same instance". Each worker of `vouch serve --workers 2` loads the
 * index itself; here worker 1 sees the change (its watch fires) while worker 2 cannot see it by
 * itself (its file's watch stays silent and its poll is an hour away). Worker 1 must tell worker 2,
 * through the supervisor, before it answers revoked; worker 2 then holds its answers for that serial
 * until it has looked at the file again. Without that, worker 2 would say good for the hour.
 *
 * How the two workers come to watch different inodes of the same data: the index is reached through
 * a symlinked folder (a -> va), worker 2 alone reloads a configuration naming another one (b -> vb,
 * the same content), then both links move to the new index (v2) without touching the old files,
 * and only va's file is touched.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createPki, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, stopAndExpectZero } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

let dir: string;
let pki: Pki;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-sibling-holds-"));
  pki = await createPki({ dir: join(dir, "pki") });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Points the symlink `link` at `target` in one rename (no moment without it). */
async function relink(link: string, target: string): Promise<void> {
  await symlink(target, `${link}.new`);
  await rename(`${link}.new`, link);
}

test("one worker sees a revocation, its sibling cannot by itself: no answer of the instance says good after its first revoked one", async () => {
  for (const folder of ["va", "vb", "v2"]) await mkdir(join(dir, folder));
  for (const folder of ["va", "vb"]) await copyFile(pki.index, join(dir, folder, "index.txt"));
  await symlink(join(dir, "va"), join(dir, "a"));
  await symlink(join(dir, "vb"), join(dir, "b"));
  const port = await freePort();
  const config = (link: string) =>
    vouchConfig({
      responders: [
        testResponder("basic", [pkiIssuer(pki, { sources: [{ type: "index", file: join(dir, link, "index.txt"), pollInterval: "PT1H" }] })], { listen: { host: "127.0.0.1", port } }),
      ],
    });
  const vouch = await startVouch(config("a"), { args: ["--workers", "2"] });
  try {
    await waitForLogs(vouch, withMessage("listening"), 2);
    const started = await waitForLogs(vouch, withMessage("worker started"), 2);
    const second = started.find((record) => record.worker === 2)!.pid as number;
    // Worker 2 alone reloads, and watches vb's file from then on.
    await writeFile(vouch.configFile, config("b"));
    process.kill(second, "SIGHUP");
    await waitForLogs(vouch, (record) => record.msg === "reloaded" && record.worker === 2);

    const plain = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    const withNonce = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]);
    // A new connection each time: the kernel spreads them over both workers.
    const ask = async (round: number) => certStatuses((await postOcsp(`${vouch.baseUrl}/`, round % 2 === 0 ? plain : withNonce, { connection: "close" })).body)[0];
    for (let round = 0; round < 16; round++) assert.equal(await ask(round), "good");

    await revokeCertificate(pki, pki.good, "keyCompromise");
    await copyFile(pki.index, join(dir, "v2", "index.txt"));
    await relink(join(dir, "a"), join(dir, "v2"));
    await relink(join(dir, "b"), join(dir, "v2"));
    // Only worker 1's watched file says something happened.
    const now = new Date();
    await utimes(join(dir, "va", "index.txt"), now, now);

    const deadline = Date.now() + 15_000;
    let round = 0;
    while ((await ask(round++)) !== "revoked") {
      assert.ok(Date.now() < deadline, "the instance never answered revoked");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const later: string[] = [];
    for (let more = 0; more < 40; more++) later.push((await ask(round++))!);
    assert.deepEqual(
      later.filter((status) => status !== "revoked"),
      [],
      "after the instance's first revoked answer, every answer says revoked (the sibling held, then looked)",
    );
    // The sibling looked again when told (its own watch and poll would not have made it).
    await waitForLogs(vouch, (record) => record.msg === "index reloaded" && record.worker === 2);
  } finally {
    await stopAndExpectZero(vouch);
  }
});
