/**
 * The shared Redis tier from the outside (SPEC §6, §7 "Several instances behind a load balancer
 * share … Redis (responses)"): two real `vouch serve` processes; a response cached by one is served
 * by the other byte for byte; a private redis-server stopped under a request loop fails no request.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { withSerial } from "../support/reference-requests.ts";
import { startPrivateRedis, type PrivateRedis } from "../support/redis-server.ts";
import { deleteKeys, redisCachedResponder } from "../support/redis-cached.ts";
import { vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

const SHARED = "redis://127.0.0.1:6379";
const PREFIX = `vouch-e2e:${randomBytes(6).toString("hex")}:`;
let pki: Pki;
let single: Buffer;
let inspect: Redis;

function config(redisUrl: string): string {
  return vouchConfig({ responders: [redisCachedResponder(pki, { url: redisUrl, keyPrefix: PREFIX, timeout: "PT0.2S" })] });
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-shared-cache-")), "pki") });
  single = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
  inspect = new Redis(SHARED);
});

after(async () => {
  await deleteKeys(inspect, PREFIX);
  inspect.disconnect();
});

describe("two instances sharing Redis", () => {
  test("a response cached by one is served by the other, byte for byte", async () => {
    const [a, b] = await Promise.all([startVouch(config(SHARED)), startVouch(config(SHARED))]);
    try {
      const first = await postOcsp(a.baseUrl, single);
      assert.deepEqual(certStatuses(first.body), ["good"]);
      await until(async () => (await inspect.keys(`${PREFIX}*`)).length === 1, "the response in Redis");
      const fromB = await postOcsp(b.baseUrl, single);
      assert.ok(fromB.body.equals(first.body), "the other instance served the stored bytes");
      assert.equal(fromB.headers.get("etag"), first.headers.get("etag"));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe("Redis stopped under load", () => {
  let redis: PrivateRedis;
  let vouch: VouchProcess;
  before(async () => {
    redis = await startPrivateRedis();
    vouch = await startVouch(config(redis.url));
  });
  after(async () => {
    await vouch?.stop();
    await redis?.stop();
  });

  test("no request fails while Redis goes down and comes back; the outage is logged once", async () => {
    let sent = 0;
    const failures: string[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        // A few serials over and over: hits and misses both.
        const serial = (0x1000 + (sent++ % 20)).toString(16);
        try {
          const response = await postOcsp(vouch.baseUrl, withSerial(single, serial));
          const status = response.status === 200 ? responseStatusName(response.body) : `HTTP ${response.status}`;
          if (status !== "successful") failures.push(status);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    const sentBy = async (count: number) => until(async () => sent >= count, `${count} requests`);
    await sentBy(200);
    await redis.stop();
    const atStop = sent;
    await sentBy(atStop + 300);
    await redis.start();
    await until(async () => vouch.logs.some((record) => record.msg === "redis available again"), "reconnection");
    const atRestart = sent;
    await sentBy(atRestart + 200);
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    const warnings = vouch.logs.filter((record) => typeof record.msg === "string" && record.msg.startsWith("redis unavailable"));
    assert.equal(warnings.length, 1, "one warning for the outage, not one per request");
  });
});
