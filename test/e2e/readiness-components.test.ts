/**
 * /readyz tells the truth about what every answer depends on besides issuers: a billing sink that
 * cannot write fails it, naming why, and it recovers when the sink can write again (the PostgreSQL
 * billing table renamed under the running server, in a fresh schema; the file sink's folder made
 * immutable); a Redis tier that is down shows as degraded, still ready (a private redis-server
 * stopped and started). The metrics move with them.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { TEST_DATABASE_URL, sql } from "../../src/billing/test-support/postgres.ts";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { adminUrl, readyzUntil, readyzWhen, scrape } from "../support/admin.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { sampleValue } from "../support/prometheus.ts";
import { startPrivateRedis } from "../support/redis-server.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch } from "../support/vouch-process.ts";

const run = promisify(execFile);
let pki: Pki;
let folder: string;
let request: Buffer;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-readiness-"));
  pki = await createPki({ dir: join(folder, "pki") });
  request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** One responder, "ready", with the admin listener on; `responder` adds to the responder's fields. */
const config = (responder: YamlFields) =>
  vouchConfig({ admin: { listen: { host: "127.0.0.1", port: 0 } }, responders: [testResponder("ready", [pkiIssuer(pki)], responder)] });

/** The answer to one request for good.pem: "good", or the OCSP error status. */
async function ask(url: string): Promise<string> {
  const response = await postOcsp(url, request);
  const status = responseStatusName(response.body);
  return status === "successful" ? certStatuses(response.body)[0]! : status;
}

test("a PostgreSQL billing table renamed under the server fails /readyz with the reason; renamed back, it is ready again", async () => {
  const schema = `vouch_ready_${process.pid}_${randomBytes(4).toString("hex")}`;
  await sql(`CREATE SCHEMA ${schema}`);
  const connection = `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}`;
  const vouch = await startVouch(config({ billing: { sink: "postgres", connectionString: connection, table: "billed" } }));
  try {
    const admin = await adminUrl(vouch);
    const url = `${vouch.baseUrl}/`;
    assert.deepEqual(await readyzUntil(admin, 200), { status: 200, body: "ready\n" });
    assert.equal(await ask(url), "good");

    await sql(`ALTER TABLE ${schema}.billed RENAME TO billed_elsewhere`);
    const failing = await readyzUntil(admin, 503);
    assert.equal(failing.status, 503, failing.body);
    const body = JSON.parse(failing.body) as { ready: boolean; failing: { responder: string; component?: string; problems: string[] }[] };
    assert.equal(body.ready, false);
    assert.deepEqual(body.failing.map((entry) => [entry.responder, entry.component]), [["ready", "billing"]]);
    assert.match(body.failing[0]!.problems[0]!, /^billing sink cannot write: relation "billed" does not exist$/);
    assert.equal(await ask(url), "tryLater", "no answer goes out unbilled");

    await sql(`ALTER TABLE ${schema}.billed_elsewhere RENAME TO billed`);
    assert.deepEqual(await readyzUntil(admin, 200), { status: 200, body: "ready\n" });
    assert.equal(await ask(url), "good");
    const samples = await scrape(admin);
    assert.equal(sampleValue(samples, "vouch_billing_batches_total", { responder: "ready", sink: "postgres", result: "durable" }), 2);
    assert.equal(sampleValue(samples, "vouch_billing_batches_total", { responder: "ready", sink: "postgres", result: "failed" }), 1);
    assert.equal(sampleValue(samples, "vouch_billing_records_total", { responder: "ready", sink: "postgres", result: "failed" }), 1);
  } finally {
    await vouch.stop();
    await sql(`DROP SCHEMA ${schema} CASCADE`);
  }
});

test("a billing folder that becomes unwritable fails /readyz; writable again, it is ready", async () => {
  const billing = join(folder, "billing");
  const vouch = await startVouch(config({ billing: { sink: "file", directory: billing } }));
  try {
    const admin = await adminUrl(vouch);
    assert.equal(await ask(`${vouch.baseUrl}/`), "good");
    assert.equal((await readyzUntil(admin, 200)).status, 200);
    // Immutable: not even root may create a file in it (the day file already open still takes writes).
    await run("chattr", ["+i", billing]);
    const failing = await readyzUntil(admin, 503);
    assert.equal(failing.status, 503, failing.body);
    assert.deepEqual(JSON.parse(failing.body), {
      ready: false,
      failing: [{ responder: "ready", component: "billing", problems: [`billing sink cannot write: EPERM: operation not permitted, open '${join(billing, ".billing-probe")}'`] }],
    });
    await run("chattr", ["-i", billing]);
    assert.deepEqual(await readyzUntil(admin, 200), { status: 200, body: "ready\n" });
  } finally {
    await run("chattr", ["-i", billing]).catch(() => {});
    await vouch.stop();
  }
});

test("Redis down is degraded: /readyz stays 200 and says so, vouch_redis_up is 0; Redis back, both recover", async () => {
  const redis = await startPrivateRedis();
  const vouch = await startVouch(
    config({
      type: "cached",
      responseCache: {
        issuers: [{ issuer: "*", expiresAfter: "PT1H" }],
        redis: { url: redis.url, keyPrefix: `vouch-ready-${randomBytes(4).toString("hex")}:`, timeout: "PT0.2S" },
      },
    }),
  );
  try {
    const admin = await adminUrl(vouch);
    const fullyReady = (answer: { body: string }) => answer.body === "ready\n";
    // Connecting to Redis takes a moment after start: until then it is degraded too.
    assert.deepEqual(await readyzWhen(admin, fullyReady), { status: 200, body: "ready\n" });
    assert.equal(sampleValue(await scrape(admin), "vouch_redis_up", { responder: "ready" }), 1);
    await redis.stop();
    const degraded = await readyzWhen(admin, (answer) => !fullyReady(answer));
    assert.equal(degraded.status, 200);
    assert.deepEqual(JSON.parse(degraded.body), {
      ready: true,
      degraded: [{ responder: "ready", component: "redis", problems: ["the shared response cache (Redis) is unavailable: answers come from memory and local validation"] }],
    });
    assert.equal(sampleValue(await scrape(admin), "vouch_redis_up", { responder: "ready" }), 0);
    assert.equal(await ask(`${vouch.baseUrl}/`), "good", "still answering");
    await redis.start();
    assert.deepEqual(await readyzWhen(admin, fullyReady), { status: 200, body: "ready\n" });
    assert.equal(sampleValue(await scrape(admin), "vouch_redis_up", { responder: "ready" }), 1);
  } finally {
    await vouch.stop();
    await redis.stop();
  }
});
