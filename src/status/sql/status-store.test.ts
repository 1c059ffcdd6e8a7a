/**
 * The store on both engines: migrations on a fresh and a re-opened store, imports that can be
 * re-run and that change nothing on bad input, and a running sql source seeing changes (on
 * PostgreSQL by NOTIFY alone: its poll interval is longer than the test).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import { silentLogger } from "../../observability/logger.ts";
import type { Pki } from "../../pki/openssl-pki.ts";
import { createPki, issueCertificate, publishCrl, readPemDer, revokeCertificate } from "../../pki/openssl-pki.ts";
import { certIdFor, certIdOfFiles } from "../test-support/cert-id-fixture.ts";
import { waitUntil } from "../test-support/wait-until.ts";
import { importCrlFile } from "./import-crl.ts";
import { importIndexFile } from "./import-index.ts";
import { IMPORT_BATCH, importAll } from "./import-rows.ts";
import type { IssuerIdentity } from "./issuer-identity.ts";
import { issuerIdentity } from "./issuer-identity.ts";
import { currentVersion, SCHEMA_VERSION } from "./migrations.ts";
import { openStoreDatabase } from "./open-database.ts";
import type { SqlDatabase } from "./sql-database.ts";
import { openSqlSource } from "./sql-loader.ts";
import { findIssuer, issuerStats, setStatus, writeChanges } from "./status-store.ts";
import type { TestStore } from "./test-support/stores.ts";
import { testStore } from "./test-support/stores.ts";

const SIGNAL = new AbortController().signal;
const now = (): number => systemClock.now();

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`SQL status store (${engine})`, () => {
    // Each engine's PKI is its own: the tests issue and revoke certificates in it.
    let dir: string;
    let pki: Pki;
    let issuerDer: Buffer;
    let issuer: IssuerIdentity;
    let store: TestStore;
    let db: SqlDatabase;
    const open = () => openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
    const stats = async () => {
      const [row] = await issuerStats(db);
      return { certificates: row?.certificates, revoked: row?.revoked };
    };
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "vouch-store-"));
      pki = await createPki({ dir: join(dir, "pki") });
      issuerDer = await readPemDer(pki.ca);
      issuer = issuerIdentity(issuerDer);
      store = await testStore(engine);
      db = await open();
    });
    after(async () => {
      await db.close();
      await store.drop();
      await rm(dir, { recursive: true, force: true });
    });

    test("a fresh store gets every migration once; re-opening applies none", async () => {
      assert.equal(await currentVersion(db), SCHEMA_VERSION);
      const again = await open();
      try {
        assert.deepEqual(await again.query("SELECT version FROM schema_version ORDER BY version"), [[1]]);
      } finally {
        await again.close();
      }
    });

    test("a store from a newer Vouch is refused, naming both versions", async () => {
      const scratch = await testStore(engine);
      try {
        const newer = await openStoreDatabase({ database: scratch.database, schema: scratch.schema, clock: systemClock });
        await newer.run("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)");
        await newer.close();
        await assert.rejects(openStoreDatabase({ database: scratch.database, schema: scratch.schema, clock: systemClock }), (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /schema version 99, newer than this Vouch knows \(1\)/);
          return true;
        });
      } finally {
        await scratch.drop();
      }
    });

    test("an index imports once: re-importing gives the same counts and changes no row", async () => {
      const first = await importIndexFile(db, issuer, pki.index, now());
      assert.deepEqual(first, { rows: 3, changed: 3, skipped: 0 });
      assert.deepEqual(await stats(), { certificates: 3, revoked: 1 });
      const second = await importIndexFile(db, issuer, pki.index, now());
      assert.deepEqual(second, { rows: 3, changed: 0, skipped: 0 });
      assert.deepEqual(await stats(), { certificates: 3, revoked: 1 });
    });

    test("a malformed line stops the import with its line number and changes nothing", async () => {
      const original = await readFile(pki.index, "utf8");
      const file = join(dir, `broken-${engine}.txt`);
      // A new certificate first, then a revocation of the good one, then the bad line.
      const good = /^V\t\S+\t\t(\S+)\t.*good/m.exec(original)![1]!;
      await writeFile(file, `${original}V\t291231235959Z\t\tABCDEF01\tunknown\t/CN=new\nR\t291231235959Z\t261201000000Z,superseded\t${good}\tunknown\t/CN=x\nV\tnot-a-time\t\t02\tunknown\t/CN=bad\n`);
      const badLine = original.trimEnd().split("\n").length + 3;
      await assert.rejects(importIndexFile(db, issuer, file, now()), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.file, file);
        assert.match(error.message, new RegExp(`^line ${badLine}: expiry "not-a-time"`));
        return true;
      });
      assert.deepEqual(await stats(), { certificates: 3, revoked: 1 });
      const issuerId = (await findIssuer(db, issuer.keySha256))!;
      assert.deepEqual(await db.query("SELECT count(*) FROM certificates WHERE issuer_id = $1 AND status = 'revoked'", [issuerId]).then((rows) => Number(rows[0]![0])), 1);
    });

    test("a write failing after several batches rolls the whole import back", async () => {
      const rows = function* () {
        for (let i = 0; i < IMPORT_BATCH * 2 + 10; i++) yield { serial: Buffer.from([0x40, i >> 16, (i >> 8) & 0xff, i & 0xff]), revokedAt: undefined, reason: undefined, invalidityDate: undefined };
        throw new Error("input broke after two batches");
      };
      await assert.rejects(importAll(db, issuer, rows(), IMPORT_BATCH * 3, now()), /input broke/);
      assert.deepEqual(await stats(), { certificates: 3, revoked: 1 });
    });

    test("an import never un-revokes: a serial revoked in the store stays revoked when the file says valid", async () => {
      const leaf = await issueCertificate(pki, `kept-${engine}`, { commonName: `kept-${engine}.test` });
      await importIndexFile(db, issuer, pki.index, now());
      const id = await certIdOfFiles(leaf, pki.ca);
      await writeChanges(db, now(), async (change) => {
        const issuerId = (await findIssuer(change.tx, issuer.keySha256))!;
        assert.equal(await setStatus(change, issuerId, id.serialNumber, { revokedAt: now(), reason: 1, invalidityDate: undefined }), true);
      });
      const result = await importIndexFile(db, issuer, pki.index, now());
      assert.equal(result.changed, 0);
      const source = await openSqlSource({ database: store.database, schema: store.schema, issuer: issuerDer, clock: systemClock, logger: silentLogger });
      try {
        assert.equal((await source.status(id, SIGNAL))?.kind, "revoked");
      } finally {
        await source.close();
      }
    });

    test("a CRL imports its entries as revoked, with their reasons; re-importing changes nothing", async () => {
      const leaf = await issueCertificate(pki, `crl-${engine}`, { commonName: `crl-${engine}.test` });
      await revokeCertificate(pki, leaf, "cessationOfOperation");
      await publishCrl(pki);
      const scratch = await testStore(engine);
      const crlDb = await openStoreDatabase({ database: scratch.database, schema: scratch.schema, clock: systemClock });
      try {
        const first = await importCrlFile(crlDb, issuer, pki.crl, now());
        assert.equal(first.rows, first.changed);
        assert.ok(first.rows >= 2, `${first.rows} entries`);
        assert.equal((await importCrlFile(crlDb, issuer, pki.crl, now())).changed, 0);
        const source = await openSqlSource({ database: scratch.database, schema: scratch.schema, issuer: issuerDer, clock: systemClock, logger: silentLogger });
        try {
          const answer = await source.status(await certIdOfFiles(leaf, pki.ca), SIGNAL);
          assert.equal(answer?.kind === "revoked" ? answer.reason : answer?.kind, "cessationOfOperation");
          assert.equal((await source.status(await certIdOfFiles(pki.good, pki.ca), SIGNAL))?.kind, "not-issued", "a CRL lists no good certificates");
        } finally {
          await source.close();
        }
        await assert.rejects(importCrlFile(crlDb, issuerIdentity(await readPemDer(pki.foreignCa)), pki.crl, now()), /issuer/);
      } finally {
        await crlDb.close();
        await scratch.drop();
      }
    });

    test(`a running source sees revocations, un-revocations and new issuers${engine === "postgres" ? " by NOTIFY alone" : " by polling"}`, async () => {
      const scratch = await testStore(engine);
      // PostgreSQL: a poll interval longer than the test, so only NOTIFY can deliver the changes.
      const pollIntervalMs = engine === "postgres" ? 600_000 : 50;
      const source = await openSqlSource({ database: scratch.database, schema: scratch.schema, issuer: issuerDer, clock: systemClock, logger: silentLogger, pollIntervalMs });
      const writer = await openStoreDatabase({ database: scratch.database, schema: scratch.schema, clock: systemClock });
      const goodId = await certIdOfFiles(pki.good, pki.ca);
      try {
        assert.equal(await source.status(goodId, SIGNAL), undefined, "no data for the issuer yet");
        assert.equal(source.freshness(), undefined);
        await importIndexFile(writer, issuer, pki.index, now());
        await waitUntil("the import", async () => (await source.status(goodId, SIGNAL))?.kind === "good");
        assert.equal((await source.status(certIdFor(Buffer.from([0x7f, 0x01]), issuerDer), SIGNAL))?.kind, "not-issued");
        const revokedAt = Date.parse("2026-01-02T03:04:05Z");
        await writeChanges(writer, now(), async (change) => {
          const issuerId = (await findIssuer(change.tx, issuer.keySha256))!;
          await setStatus(change, issuerId, goodId.serialNumber, { revokedAt, reason: 6, invalidityDate: revokedAt - 1000 });
        });
        const revoked = await waitUntil("the revocation", async () => {
          const answer = await source.status(goodId, SIGNAL);
          return answer?.kind === "revoked" ? answer : undefined;
        });
        assert.deepEqual([revoked.revokedAt.getTime(), revoked.reason, revoked.invalidityDate?.getTime()], [revokedAt, "certificateHold", revokedAt - 1000]);
        await writeChanges(writer, now(), async (change) => {
          await setStatus(change, (await findIssuer(change.tx, issuer.keySha256))!, goodId.serialNumber, undefined);
        });
        await waitUntil("the un-revocation", async () => (await source.status(goodId, SIGNAL))?.kind === "good");
        assert.ok(source.freshness()!.loadedAt <= now());
      } finally {
        await source.close();
        await writer.close();
        await scratch.drop();
      }
    });
  });
}
