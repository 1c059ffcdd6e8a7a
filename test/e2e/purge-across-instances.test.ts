/**
 * Issue 14 items 3 and 5 across instances: two `cached` instances share Redis (and an index).
 * `vouch cache purge`, run with the first instance's configuration, empties the second instance's
 * memory tier too (through the change channel, whose admin listener it never asks); and a
 * revocation the first instance publishes is measured on the second as well
 * (`vouch_revocation_applied_seconds{origin="remote"}`).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { certificateSerial, createPki, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { adminUrl, scrape } from "../support/admin.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { deleteKeys, redisCachedResponder } from "../support/redis-cached.ts";
import { vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs } from "../support/wait-for-log.ts";

const REDIS = "redis://127.0.0.1:6379";
const prefix = `vouch-e2e-purge-instances:${randomBytes(6).toString("hex")}:`;
let dir: string;
let pki: Pki;
const instances: VouchProcess[] = [];

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The value of `name` with `labels` on the instance's /metrics (0 when absent). */
async function metric(vouch: VouchProcess, name: string, labels: Record<string, string>): Promise<number> {
  const samples = await scrape(await adminUrl(vouch));
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  return found.reduce((sum, sample) => sum + sample.value, 0);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-purge-instances-"));
  pki = await createPki({ dir: join(dir, "pki") });
  const tokenFile = join(dir, "admin-token");
  await writeFile(tokenFile, `${randomBytes(16).toString("hex")}\n`, { mode: 0o600 });
  for (let index = 0; index < 2; index++) {
    const config = vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: await freePort() }, tokenFile },
      responders: [redisCachedResponder(pki, { url: REDIS, keyPrefix: prefix, timeout: "PT0.5S" }, { responder: { listen: { host: "127.0.0.1", port: await freePort() } } })],
    });
    instances.push(await startVouch(config));
  }
});
after(async () => {
  for (const vouch of instances) await stopAndExpectZero(vouch);
  const inspect = new Redis(REDIS);
  try {
    await deleteKeys(inspect, prefix);
  } finally {
    inspect.disconnect();
  }
  await rm(dir, { recursive: true, force: true });
});

test("vouch cache purge with one instance's configuration empties the other instance's memory tier too", async () => {
  const [first, second] = instances as [VouchProcess, VouchProcess];
  const plain = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
  for (const vouch of instances) assert.deepEqual(certStatuses((await postOcsp(`${vouch.baseUrl}/`, plain)).body), ["good"]);
  await until("the second instance's memory tier to hold the answer", async () => (await metric(second, "vouch_response_cache_entries", { responder: "cached" })) >= 1);

  const purged = await runVouch(["cache", "purge", "--config", first.configFile, "--issuer", pki.ca, "--serial", await certificateSerial(pki.good)], { timeoutMs: 30_000 });
  assert.equal(purged.code, 0, purged.stdout + purged.stderr);
  // Both instances' workers listen on the channel.
  assert.match(purged.stdout, /^instances \(cached\): [2-9]\d* workers told through /m, purged.stdout);
  await until("the second instance's memory tier to be empty", async () => (await metric(second, "vouch_response_cache_entries", { responder: "cached" })) === 0);
  await waitForLogs(second, (record) => record.msg === "cache purge through the change channel applied" && record.memory === 1);
});

test("a revocation published by one instance is measured on the other too (origin remote)", async () => {
  const [, second] = instances as [VouchProcess, VouchProcess];
  await revokeCertificate(pki, pki.good, "keyCompromise");
  // Each instance sees the index change itself (origin local) and hears the other's (origin remote).
  for (const vouch of instances) {
    await until("a local and a remote observation", async () => {
      const local = await metric(vouch, "vouch_revocation_applied_seconds_count", { responder: "cached", source: "index", origin: "local" });
      const remote = await metric(vouch, "vouch_revocation_applied_seconds_count", { responder: "cached", source: "index", origin: "remote" });
      return local >= 1 && remote >= 1;
    });
  }
  const plain = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
  assert.deepEqual(certStatuses((await postOcsp(`${second.baseUrl}/`, plain)).body), ["revoked"]);
});
