/**
 * Issue 14 item 1, as an operator meets it: a `cached` responder with two workers, each with its own
 * memory tier, sharing Redis; a client warms every tier with no-nonce and nonce requests; then the
 * CA revokes (`vouch store revoke` on PostgreSQL, `openssl ca -revoke` on an index, a new CRL).
 * Without any client asking, the Redis entry stops saying good (dropped, then signed again by the
 * renewing row); `openssl ocsp` then says revoked, with and without a nonce, and never good again;
 * each worker logs the change it applied.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { encodeCertId } from "../../src/ocsp/cert-id.ts";
import { certificateSerial, createPki, publishCrl, readPemDer, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import type { TestStore } from "../../src/status/sql/test-support/stores.ts";
import { testStore } from "../../src/status/sql/test-support/stores.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { bothWorkersListening, deleteKeys, redisCachedResponder, TWO_WORKERS } from "../support/redis-cached.ts";
import { vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs } from "../support/wait-for-log.ts";

const REDIS = "redis://127.0.0.1:6379";

/** `openssl ocsp`'s verdict for pki.good, signature checked; with or without a nonce. */
async function verdict(vouch: VouchProcess, pki: Pki, nonce: boolean): Promise<string> {
  const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca, ...(nonce ? [] : ["-no_nonce"])]);
  assert.match(result.output, /Response verify OK/, result.output);
  return /: (good|revoked|unknown)\n/.exec(result.stdout)?.[1] ?? result.output;
}

/** Polls `check` every 25 ms until it is true; fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Case {
  readonly name: string;
  /** The issuer's sources. */
  sources(pki: Pki, store: TestStore): YamlFields[];
  /** Before the start (e.g. importing the index into the store). */
  prepare?(pki: Pki, store: TestStore): Promise<void>;
  revoke(pki: Pki, store: TestStore): Promise<void>;
}

const CASES: Case[] = [
  {
    name: "PostgreSQL store, vouch store revoke",
    sources: (_pki, store) => [{ type: "sql", database: store.database, schema: store.schema }],
    async prepare(pki, store) {
      const imported = await runVouch(["store", "import-index", pki.index, ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
      assert.equal(imported.code, 0, imported.stderr);
    },
    async revoke(pki, store) {
      const revoked = await runVouch(["store", "revoke", await certificateSerial(pki.good), "--reason", "keyCompromise", ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
      assert.equal(revoked.code, 0, revoked.stderr);
    },
  },
  {
    name: "index, openssl ca -revoke",
    sources: (pki) => [{ type: "index", file: pki.index }],
    revoke: (pki) => revokeCertificate(pki, pki.good, "keyCompromise"),
  },
  {
    name: "CRL, a new CRL",
    sources: (pki) => [{ type: "crl", files: [pki.crl] }],
    async revoke(pki) {
      await revokeCertificate(pki, pki.good, "keyCompromise");
      await publishCrl(pki);
    },
  },
];

for (const kind of CASES) {
  describe(`a revocation reaches every tier and worker: ${kind.name}`, () => {
    let dir: string;
    let pki: Pki;
    let store: TestStore;
    let redis: Redis;
    const prefix = `vouch-e2e-propagation:${randomBytes(6).toString("hex")}:`;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "vouch-propagation-"));
      pki = await createPki({ dir: join(dir, "pki") });
      store = await testStore("postgres");
      redis = new Redis(REDIS);
      await kind.prepare?.(pki, store);
    });
    after(async () => {
      try {
        await deleteKeys(redis, prefix);
      } finally {
        redis.disconnect();
      }
      await store.drop();
      await rm(dir, { recursive: true, force: true });
    });

    test("warmed with and without nonces, then revoked: Redis stops saying good by itself, every answer says revoked, never good again", async () => {
      const config = vouchConfig({
        responders: [
          redisCachedResponder(
            pki,
            { url: REDIS, keyPrefix: prefix, timeout: "PT0.5S" },
            {
              issuer: { sources: kind.sources(pki, store) },
              responder: { listen: { host: "127.0.0.1", port: await freePort() } },
              row: { issuer: "*", expiresAfter: "PT1H", renew: { margin: "PT10M" } },
            },
          ),
        ],
      });
      const vouch = await bothWorkersListening(startVouch(config, TWO_WORKERS));
      try {
        const plain = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
        const ask = async () => certStatuses((await postOcsp(`${vouch.baseUrl}/`, plain, { connection: "close" })).body)[0];
        // New connections spread over both workers: each memory tier, and Redis, hold the good answer.
        for (let round = 0; round < 12; round++) assert.equal(await ask(), "good");
        for (const nonce of [true, false]) assert.equal(await verdict(vouch, pki, nonce), "good");
        const key = prefix + encodeCertId("sha1", await readPemDer(pki.ca), Buffer.from(await certificateSerial(pki.good), "hex")).toString("hex");
        await until("the good answer in Redis", async () => (await redis.exists(key)) === 1);

        await kind.revoke(pki, store);
        // No client asks meanwhile: only the change events can make Redis stop saying good.
        await until("Redis to stop saying good", async () => {
          const value = await redis.getBuffer(key);
          return value === null || certStatuses(value.subarray(33))[0] === "revoked";
        });
        await until("openssl ocsp to say revoked", async () => (await verdict(vouch, pki, false)) === "revoked");
        const later: string[] = [];
        for (let round = 0; round < 12; round++) later.push((await ask())!);
        for (const nonce of [true, false, true]) later.push(await verdict(vouch, pki, nonce));
        assert.deepEqual(new Set(later), new Set(["revoked"]), "no answer after the first revoked one says good");
        await waitForLogs(vouch, (record) => record.msg === "revocation data change applied" && JSON.stringify(record.kinds ?? {}).includes("revoked"), 2);
      } finally {
        await stopAndExpectZero(vouch);
      }
    });
  });
}
