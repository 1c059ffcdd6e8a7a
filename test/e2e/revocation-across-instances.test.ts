/**
 * Issue 14 item 2 from the outside: two `cached` instances, each with `--workers 2`, sharing
 * PostgreSQL (statuses) and Redis (responses) through a TCP proxy the test controls. A client warms
 * every tier with no-nonce and nonce requests; `vouch store revoke` on one; then every instance
 * answers revoked and never good again, and each worker of each instance logs the change the
 * others published. Redis cut while a second revocation is made: answers still turn revoked (each
 * instance's own source), and once Redis is back every worker says it dropped its memory tier
 * because it may have missed changes.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { tcpProxy, type TcpProxy } from "../../src/billing/test-support/tcp-proxy.ts";
import { certificateSerial, createPki, issueCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import type { TestStore } from "../../src/status/sql/test-support/stores.ts";
import { testStore } from "../../src/status/sql/test-support/stores.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { bothWorkersListening, deleteKeys, redisCachedResponder, TWO_WORKERS } from "../support/redis-cached.ts";
import { vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs } from "../support/wait-for-log.ts";

async function verdict(vouch: VouchProcess, pki: Pki, certificate: string, nonce: boolean): Promise<string> {
  const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", certificate, "-CAfile", pki.root, "-verify_other", pki.ca, ...(nonce ? [] : ["-no_nonce"])]);
  assert.match(result.output, /Response verify OK/, result.output);
  return /: (good|revoked|unknown)\n/.exec(result.stdout)?.[1] ?? result.output;
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("two instances × two workers sharing PostgreSQL and Redis", () => {
  let dir: string;
  let pki: Pki;
  let store: TestStore;
  let proxy: TcpProxy;
  let inspect: Redis;
  let second: string;
  const prefix = `vouch-e2e-instances:${randomBytes(6).toString("hex")}:`;
  const instances: VouchProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-instances-"));
    pki = await createPki({ dir: join(dir, "pki") });
    second = await issueCertificate(pki, "second", { commonName: "second.example" });
    store = await testStore("postgres");
    const imported = await runVouch(["store", "import-index", pki.index, ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
    assert.equal(imported.code, 0, imported.stderr);
    proxy = await tcpProxy(6379);
    inspect = new Redis("redis://127.0.0.1:6379");
    const config = async () =>
      vouchConfig({
        responders: [
          redisCachedResponder(
            pki,
            { url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: prefix, timeout: "PT0.5S" },
            {
              issuer: { sources: [{ type: "sql", database: store.database, schema: store.schema }] },
              responder: { listen: { host: "127.0.0.1", port: await freePort() } },
            },
          ),
        ],
      });
    for (let index = 0; index < 2; index++) instances.push(await bothWorkersListening(startVouch(await config(), TWO_WORKERS)));
  });
  after(async () => {
    try {
      for (const vouch of instances) await stopAndExpectZero(vouch);
      await proxy?.stop();
      await deleteKeys(inspect, prefix);
    } finally {
      // An open connection would keep the test process alive after a failed start.
      inspect?.disconnect();
      await store?.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  const revoke = async (certificate: string) => {
    const result = await runVouch(["store", "revoke", await certificateSerial(certificate), "--reason", "keyCompromise", ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
    assert.equal(result.code, 0, result.stderr);
  };
  const warm = async (certificate: string) => {
    const plain = await opensslRequest(["-issuer", pki.ca, "-cert", certificate, "-no_nonce"]);
    for (const vouch of instances) {
      for (let round = 0; round < 8; round++) assert.deepEqual(certStatuses((await postOcsp(`${vouch.baseUrl}/`, plain, { connection: "close" })).body), ["good"]);
      for (const nonce of [true, false]) assert.equal(await verdict(vouch, pki, certificate, nonce), "good");
    }
    return plain;
  };
  const everyAnswerRevoked = async (certificate: string, plain: Buffer) => {
    for (const vouch of instances) await until(`${vouch.baseUrl} to say revoked`, async () => (await verdict(vouch, pki, certificate, false)) === "revoked");
    const later: string[] = [];
    for (const vouch of instances) {
      for (let round = 0; round < 8; round++) later.push(certStatuses((await postOcsp(`${vouch.baseUrl}/`, plain, { connection: "close" })).body)[0]!);
      for (const nonce of [true, false]) later.push(await verdict(vouch, pki, certificate, nonce));
    }
    assert.deepEqual(new Set(later), new Set(["revoked"]), "no answer after the first revoked one says good");
  };

  test("vouch store revoke on one: every instance, worker and tier answers revoked; each worker applies what the others published", async () => {
    const plain = await warm(pki.good);
    await revoke(pki.good);
    await everyAnswerRevoked(pki.good, plain);
    // Four workers each publish the change their own source saw; each applies the other three's.
    for (const vouch of instances) {
      await waitForLogs(vouch, (record) => record.msg === "revocation data change of another instance applied" && JSON.stringify(record.kinds ?? {}).includes("revoked"), 2);
    }
  });

  test("Redis cut during a revocation: answers still turn revoked, and every worker drops its memory tier once Redis is back", async () => {
    const plain = await warm(second);
    await proxy.stop();
    await revoke(second);
    await everyAnswerRevoked(second, plain);
    await proxy.start();
    for (const vouch of instances) {
      const dropped = await waitForLogs(vouch, (record) => typeof record.msg === "string" && record.msg.startsWith("the change channel (Redis) was unreachable"), 2, 30_000);
      assert.ok(dropped.every((record) => typeof record.downForMs === "number"));
    }
    await everyAnswerRevoked(second, plain);
  });
});
