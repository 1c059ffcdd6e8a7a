/**
 * Issue 14 item 3 from the outside: `vouch cache purge` against a running `cached` server with two
 * workers, whose admin listener has a token, and its Redis tier. One certificate, then everything:
 * the memory tiers of both workers empty (vouch_response_cache_entries) and the Redis keys go; exit
 * 0. The endpoint refuses a missing or wrong token; without admin.tokenFile the command purges Redis,
 * says the memory tiers were not reached, and exits 1.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { encodeCertId } from "../../src/ocsp/cert-id.ts";
import { certificateSerial, createPki, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { adminUrl, scrape } from "../support/admin.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { bothWorkersListening, deleteKeys, redisCachedResponder, TWO_WORKERS } from "../support/redis-cached.ts";
import { vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouchWithFile, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";

const TOKEN = randomBytes(24).toString("hex");

describe("vouch cache purge", () => {
  let dir: string;
  let pki: Pki;
  let redis: Redis;
  let vouch: VouchProcess;
  let configFile: string;
  const prefix = `vouch-e2e-purge:${randomBytes(6).toString("hex")}:`;
  const keyOf = async (certificate: string) => prefix + encodeCertId("sha1", await readPemDer(pki.ca), Buffer.from(await certificateSerial(certificate), "hex")).toString("hex");
  const config = async (withToken: boolean) =>
    vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: await freePort() }, ...(withToken ? { tokenFile: "token.txt" } : {}) },
      responders: [
        redisCachedResponder(pki, { url: "redis://127.0.0.1:6379", keyPrefix: prefix, timeout: "PT0.5S" }, { responder: { listen: { host: "127.0.0.1", port: await freePort() } } }),
      ],
    });
  const entries = async () => (await scrape(await adminUrl(vouch))).filter((sample) => sample.name === "vouch_response_cache_entries").reduce((sum, sample) => sum + sample.value, 0);
  const warm = async () => {
    for (const certificate of [pki.good, pki.revoked]) {
      const request = await opensslRequest(["-issuer", pki.ca, "-cert", certificate, "-no_nonce"]);
      for (let round = 0; round < 8; round++) assert.equal(certStatuses((await postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })).body).length, 1);
    }
    for (const certificate of [pki.good, pki.revoked]) {
      const key = await keyOf(certificate);
      const deadline = Date.now() + 10_000;
      while ((await redis.exists(key)) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const purge = (...args: string[]) => runVouch(["cache", "purge", "--config", configFile, ...args], { timeoutMs: 30_000 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-purge-"));
    pki = await createPki({ dir: join(dir, "pki") });
    redis = new Redis("redis://127.0.0.1:6379");
    await writeFile(join(dir, "token.txt"), `${TOKEN}\n`);
    configFile = join(dir, "vouch.yaml");
    await writeFile(configFile, await config(true));
    vouch = await bothWorkersListening(startVouchWithFile(configFile, TWO_WORKERS));
  });
  after(async () => {
    try {
      if (vouch !== undefined) await stopAndExpectZero(vouch);
      await deleteKeys(redis, prefix);
    } finally {
      // An open connection would keep the test process alive after a failed start.
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("one certificate, then everything: both workers' memory tiers and Redis, exit 0", async () => {
    await warm();
    assert.ok((await entries()) >= 2, "the memory tiers hold responses");
    const one = await purge("--issuer", pki.ca, "--serial", await certificateSerial(pki.good));
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /memory tiers: \d+ responses dropped in 2 of 2 workers/);
    assert.match(one.stdout, /redis \(cached\): \d+ keys deleted/);
    assert.equal(await redis.exists(await keyOf(pki.good)), 0, "the purged certificate's key is gone");
    assert.equal(await redis.exists(await keyOf(pki.revoked)), 1, "another certificate's key stays");

    const all = await purge("--all");
    assert.equal(all.code, 0, all.stdout + all.stderr);
    assert.equal(await entries(), 0, "no worker holds a response");
    assert.deepEqual(await redis.keys(`${prefix}*`), []);
  });

  test("the endpoint wants the token", async () => {
    const url = `${await adminUrl(vouch)}/cache/purge`;
    assert.equal((await fetch(url, { method: "POST", body: "{}" })).status, 401);
    assert.equal((await fetch(url, { method: "POST", body: "{}", headers: { authorization: "Bearer wrong-token-wrong-token" } })).status, 401);
    const bad = await fetch(url, { method: "POST", body: JSON.stringify({ serial: "01" }), headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bad.status, 400);
  });

  test("usage errors exit 2; without admin.tokenFile the memory tiers are not reached: Redis is purged, exit 1", async () => {
    assert.equal((await purge()).code, 2);
    assert.equal((await purge("--serial", "01")).code, 2);
    await warm();
    const noToken = join(dir, "no-token.yaml");
    await writeFile(noToken, await config(false));
    const result = await runVouch(["cache", "purge", "--config", noToken, "--all"], { timeoutMs: 30_000 });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /memory tiers: not purged: the admin listener has no admin\.tokenFile/);
    assert.match(result.stdout, /redis \(cached\): [1-9]\d* keys deleted/);
    assert.deepEqual(await redis.keys(`${prefix}*`), []);
  });
});
