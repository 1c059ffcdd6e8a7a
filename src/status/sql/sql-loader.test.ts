import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { tcpProxy, type TcpProxy } from "../../billing/test-support/tcp-proxy.ts";
import { systemClock } from "../../clock.ts";
import { ConfigError, TryLaterError } from "../../errors.ts";
import { recordingLogger, silentLogger } from "../../observability/logger.ts";
import type { Pki } from "../../pki/openssl-pki.ts";
import { readPemDer } from "../../pki/openssl-pki.ts";
import { guardStale } from "../guard-stale.ts";
import { certIdOfFiles } from "../test-support/cert-id-fixture.ts";
import { pkiSuite, type PkiSuite } from "../test-support/pki-suite.ts";
import { waitUntil } from "../test-support/wait-until.ts";
import { statusSourceContract } from "../status-source.contract.ts";
import { importIndexFile } from "./import-index.ts";
import { issuerIdentity } from "./issuer-identity.ts";
import { openStoreDatabase } from "./open-database.ts";
import { openSqlSource } from "./sql-loader.ts";
import { findIssuer, setStatus, writeChanges } from "./status-store.ts";
import type { TestStore } from "./test-support/stores.ts";
import { TEST_DATABASE_URL, testStore } from "./test-support/stores.ts";

const SIGNAL = new AbortController().signal;
const stores: TestStore[] = [];
after(async () => {
  for (const store of stores) await store.drop();
});

for (const engine of ["sqlite", "postgres"] as const) {
  statusSourceContract(`openSqlSource (${engine})`, async (pki) => {
    const store = await testStore(engine);
    stores.push(store);
    const issuer = await readPemDer(pki.ca);
    const db = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
    try {
      await importIndexFile(db, issuerIdentity(issuer), pki.index, systemClock.now());
    } finally {
      await db.close();
    }
    return openSqlSource({ database: store.database, schema: store.schema, issuer, clock: systemClock, logger: silentLogger });
  });
}

describe("openSqlSource", () => {
  let suite: PkiSuite;
  let dir: string, pki: Pki, issuer: Buffer;
  before(async () => ({ dir, pki, issuer } = suite = await pkiSuite("vouch-sql-source-")));
  after(() => suite.remove());

  /** A store holding the PKI's index, and a function that revokes serials in it. */
  async function filledStore(engine: "sqlite" | "postgres"): Promise<{ store: TestStore; revoke: (...files: string[]) => Promise<void> }> {
    const store = await testStore(engine);
    stores.push(store);
    const db = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
    try {
      await importIndexFile(db, issuerIdentity(issuer), pki.index, systemClock.now());
    } finally {
      await db.close();
    }
    const revoke = async (...files: string[]): Promise<void> => {
      const writer = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
      try {
        await writeChanges(writer, systemClock.now(), async (change) => {
          const issuerId = (await findIssuer(change.tx, issuerIdentity(issuer).keySha256))!;
          for (const file of files) await setStatus(change, issuerId, (await certIdOfFiles(file, pki.ca)).serialNumber, { revokedAt: 0, reason: 4, invalidityDate: undefined });
        });
      } finally {
        await writer.close();
      }
    };
    return { store, revoke };
  }

  test("more changes than maxOverlay reload the whole table, and answers stay right", async () => {
    const { store, revoke } = await filledStore("sqlite");
    const logger = recordingLogger();
    const source = await openSqlSource({ database: store.database, issuer, clock: systemClock, logger, pollIntervalMs: 20, maxOverlay: 1 });
    try {
      await revoke(pki.good, pki.signer);
      await waitUntil("both revocations", async () => (await source.status(await certIdOfFiles(pki.signer, pki.ca), SIGNAL))?.kind === "revoked");
      assert.equal((await source.status(await certIdOfFiles(pki.good, pki.ca), SIGNAL))?.kind, "revoked");
      assert.equal(logger.records.filter((record) => record.message === "sql store loaded").length, 2, "one load at start, one reload");
    } finally {
      await source.close();
    }
  });

  test("serials lists every certificate the store knows, once, also after changes (response pre-production)", async () => {
    const { store, revoke } = await filledStore("sqlite");
    const source = await openSqlSource({ database: store.database, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 20 });
    try {
      const listed = () => [...source.serials!()].map((serial) => serial.toString("hex")).sort();
      const before = listed();
      const good = (await certIdOfFiles(pki.good, pki.ca)).serialNumber.toString("hex");
      assert.ok(before.includes(good), `${good} in ${before.join(",")}`);
      await revoke(pki.good);
      await waitUntil("the revocation", async () => (await source.status(await certIdOfFiles(pki.good, pki.ca), SIGNAL))?.kind === "revoked");
      assert.deepEqual(listed(), before, "a changed row is listed once, from the overlay");
    } finally {
      await source.close();
    }
    assert.deepEqual([...source.serials!()], [], "nothing once closed");
  });

  test("PostgreSQL out of reach: answers go on from memory with an ageing thisUpdate, one warning, and changes arrive once it is back", async () => {
    const { store, revoke } = await filledStore("postgres");
    const target = new URL(store.database);
    const proxy = await tcpProxy(Number(target.port || 5432));
    target.port = String(proxy.port);
    const logger = recordingLogger();
    const source = await openSqlSource({ database: target.toString(), schema: store.schema, issuer, clock: systemClock, logger, pollIntervalMs: 30 });
    const goodId = await certIdOfFiles(pki.good, pki.ca);
    try {
      await proxy.stop();
      await waitUntil("the warning", () => logger.records.find((record) => record.level === "warn" && record.message.includes("refresh failed")));
      const stalled = source.freshness()!.loadedAt;
      const answer = await source.status(goodId, SIGNAL);
      assert.equal(answer?.kind, "good");
      assert.equal(answer.thisUpdate.getTime(), stalled);
      await revoke(pki.good);
      await delay(150);
      assert.equal((await source.status(goodId, SIGNAL))?.kind, "good", "the change cannot arrive while the database is cut off");
      assert.equal(logger.records.filter((record) => record.message.includes("refresh failed")).length, 1, "one warning per outage");
      await proxy.start();
      await waitUntil("the revocation after the outage", async () => (await source.status(goodId, SIGNAL))?.kind === "revoked");
      assert.ok(source.freshness()!.loadedAt > stalled);
      assert.ok(logger.records.some((record) => record.message === "sql store reachable again"));
    } finally {
      await source.close();
      await proxy.stop();
    }
  });

  /**
   * Issue 12 item 7: ways a refresh can fail, each with the good certificate revoked while it does.
   * The PostgreSQL ones go through a proxy (the shared server is never touched); SQLite's poll
   * fails while its table is renamed away (its file is local, but a poll can still fail).
   */
  interface Outage {
    readonly name: string;
    readonly engine: "sqlite" | "postgres";
    /** Starts the outage and revokes `serial` in the store meanwhile; resolves with the way back. */
    begin(context: { store: TestStore; proxy: TcpProxy | undefined; revokeGood: () => Promise<void>; serial: Buffer }): Promise<() => Promise<void>>;
  }
  const proxied = (name: string, cut: (proxy: TcpProxy) => void): Outage => ({
    name,
    engine: "postgres",
    async begin({ proxy, revokeGood }) {
      cut(proxy!);
      await revokeGood();
      return () => proxy!.start();
    },
  });
  const outages: Outage[] = [
    proxied("PostgreSQL connections reset", (proxy) => proxy.reset()),
    proxied("PostgreSQL gone silent", (proxy) => proxy.silence()),
    {
      name: "SQLite poll failing",
      engine: "sqlite",
      async begin({ store, serial }) {
        const file = new DatabaseSync(store.database);
        file.exec("ALTER TABLE certificates RENAME TO certificates_cut");
        // A revocation as `vouch store` writes it (docs/sql-store.md), into the renamed table.
        file.exec("UPDATE store_state SET seq = seq + 1 WHERE id = 1");
        file.prepare("UPDATE certificates_cut SET status = 'revoked', revoked_at = 0, reason = 4, seq = (SELECT seq FROM store_state WHERE id = 1) WHERE serial = ?").run(serial);
        return async () => {
          file.exec("ALTER TABLE certificates_cut RENAME TO certificates");
          file.close();
        };
      },
    },
  ];
  for (const outage of outages) {
    test(`${outage.name}: answers promise no more than the last confirmation + maxStaleness, then tryLater; back by itself with the revocation`, { timeout: 60_000 }, async () => {
      const { store, revoke } = await filledStore(outage.engine);
      const proxy = outage.engine === "sqlite" ? undefined : await tcpProxy(Number(new URL(store.database).port || 5432));
      const database = proxy === undefined ? store.database : Object.assign(new URL(store.database), { port: String(proxy.port) }).toString();
      const maxStalenessMs = 1500;
      const source = await openSqlSource({ database, schema: store.schema, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 50, maxStalenessMs });
      // As composition puts every source: behind the stale-data guard.
      const guarded = guardStale(source, systemClock);
      const goodId = await certIdOfFiles(pki.good, pki.ca);
      try {
        const healthy = await guarded.status(goodId, SIGNAL);
        assert.equal(healthy?.kind, "good");
        assert.equal(healthy.nextUpdate?.getTime(), healthy.thisUpdate.getTime() + maxStalenessMs, "nextUpdate = last confirmation + maxStaleness");
        const heal = await outage.begin({ store, proxy, revokeGood: () => revoke(pki.good), serial: goodId.serialNumber });
        // Until the limit, good from memory, never promising more than the data has; then tryLater.
        const stale = await waitUntil("tryLater once the data is older than maxStaleness", async () => {
          let answer;
          try {
            answer = await guarded.status(goodId, SIGNAL);
          } catch (error) {
            if (error instanceof TryLaterError) return error;
            throw error;
          }
          assert.equal(answer?.kind, "good", "the revocation cannot arrive during the outage");
          assert.ok(answer.nextUpdate !== undefined && answer.nextUpdate.getTime() <= answer.thisUpdate.getTime() + maxStalenessMs, "no more freshness than the data has");
          return false;
        }, 400);
        assert.match(stale.message, /stale/);
        const fresh = source.freshness()!;
        assert.ok(fresh.nextUpdate !== undefined && fresh.nextUpdate <= systemClock.now(), "freshness says the data is past its nextUpdate (readiness)");
        await heal();
        const kind = async () => {
          try {
            return (await guarded.status(goodId, SIGNAL))?.kind;
          } catch (error) {
            if (error instanceof TryLaterError) return "tryLater";
            throw error;
          }
        };
        await waitUntil("the revocation made during the outage", async () => (await kind()) === "revoked", 800);
        assert.ok(source.freshness()!.nextUpdate! > systemClock.now(), "current again");
      } finally {
        await source.close();
        await proxy?.stop();
      }
    });
  }

  const invalid: [string, string, () => Parameters<typeof openSqlSource>[0]][] = [
    ["an empty database", "database", () => ({ database: "", issuer, clock: systemClock, logger: silentLogger })],
    ["a folder that does not exist", "database", () => ({ database: join(dir, "no", "such", "folder", "s.db"), issuer, clock: systemClock, logger: silentLogger })],
    ["a schema that needs quoting", "schema", () => ({ database: TEST_DATABASE_URL, schema: "Bad-Name", issuer, clock: systemClock, logger: silentLogger })],
    ["an unreachable server", "database", () => ({ database: "postgres://postgres@127.0.0.1:1/test", issuer, clock: systemClock, logger: silentLogger })],
    ["an issuer that is not a certificate", "issuer", () => ({ database: join(dir, "s.db"), issuer: Buffer.from("nope"), clock: systemClock, logger: silentLogger })],
    ["a tiny poll interval", "pollIntervalMs", () => ({ database: join(dir, "s.db"), issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 1 })],
    ["a maxStaleness under a second", "maxStalenessMs", () => ({ database: join(dir, "s.db"), issuer, clock: systemClock, logger: silentLogger, maxStalenessMs: 999 })],
  ];
  for (const [name, field, options] of invalid) {
    test(`rejects ${name} with ConfigError(${field})`, async () => {
      await assert.rejects(openSqlSource(options()), (error: unknown) => error instanceof ConfigError && error.field === field);
    });
  }
});

describe("openSqlSource on SQLite: another process's commit is seen without waiting for the poll (issue 14 item 5)", () => {
  let suite: PkiSuite;
  let pki: Pki, issuer: Buffer;
  before(async () => ({ pki, issuer } = suite = await pkiSuite("vouch-sql-data-version-")));
  after(() => suite.remove());

  test("PRAGMA data_version: with a one-hour poll, a revocation committed by another connection arrives", async () => {
    const store = await testStore("sqlite");
    stores.push(store);
    const setup = await openStoreDatabase({ database: store.database, clock: systemClock });
    try {
      await importIndexFile(setup, issuerIdentity(issuer), pki.index, systemClock.now());
    } finally {
      await setup.close();
    }
    const source = await openSqlSource({ database: store.database, issuer, clock: systemClock, logger: silentLogger, pollIntervalMs: 3_600_000 });
    try {
      const id = await certIdOfFiles(pki.good, pki.ca);
      assert.equal((await source.status(id, SIGNAL))?.kind, "good");
      // The first look after start comes at once; this write is well after it.
      await delay(200);
      const writer = await openStoreDatabase({ database: store.database, clock: systemClock });
      try {
        await writeChanges(writer, systemClock.now(), async (change) => {
          const issuerId = (await findIssuer(change.tx, issuerIdentity(issuer).keySha256))!;
          await setStatus(change, issuerId, id.serialNumber, { revokedAt: 0, reason: 1, invalidityDate: undefined });
        });
      } finally {
        await writer.close();
      }
      await waitUntil("the revocation, long before the hourly poll", async () => (await source.status(id, SIGNAL))?.kind === "revoked");
    } finally {
      await source.close();
    }
  });
});
