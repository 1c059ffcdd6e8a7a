/**
 * The change events of every kind of source, caused by the real tools that change revocation data:
 * `openssl ca -revoke` and issuance (index.txt), `openssl ca -gencrl` (CRLs), `vouch store` (SQLite
 * and PostgreSQL), and another connection writing to a PostgreSQL store. Each must publish exactly
 * the serials it changed, with the right kinds, and nothing more.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../observability/logger.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { createPki, issueCertificate, publishCrl, readPemDer, revokeCertificate, type Pki } from "../pki/openssl-pki.ts";
import { runVouch } from "../../test/support/vouch-process.ts";
import { changeKind, type StatusChanges } from "./change-events.ts";
import { openCrlSource } from "./crl/crl-loader.ts";
import { openIndexSource } from "./index/index-loader.ts";
import { importIndexFile } from "./sql/import-index.ts";
import { issuerIdentity } from "./sql/issuer-identity.ts";
import { openStoreDatabase } from "./sql/open-database.ts";
import { openSqlSource } from "./sql/sql-loader.ts";
import { findIssuer, readCertificate, setStatus, writeChanges } from "./sql/status-store.ts";
import { testStore, type TestStore } from "./sql/test-support/stores.ts";
import { certIdOfFiles } from "./test-support/cert-id-fixture.ts";
import { listed, recordChanges, type ChangeRecorder } from "./test-support/change-recorder.ts";
import type { TableSource } from "./table/table-source.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-changes-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The hex of `certificate`'s serial as a CertID carries it (the octets a change lists). */
const serialOf = async (pki: Pki, certificate: string): Promise<string> => (await certIdOfFiles(certificate, pki.ca)).serialNumber.toString("hex");
const mtimeOf = async (file: string): Promise<number> => Number((await stat(file, { bigint: true })).mtimeMs);

/**
 * Runs `steps` with `source`'s changes recorded, then checks that no batch came beyond those the
 * steps took (a moment later, for a stray one), and closes the source.
 */
async function expectChanges(source: TableSource, steps: (changes: ChangeRecorder) => Promise<void>): Promise<void> {
  const changes = recordChanges(source.changes);
  try {
    await steps(changes);
    await delay(300);
    assert.equal(changes.batches.length, changes.taken, "nothing more");
  } finally {
    changes.stop();
    await source.close();
  }
}

/** What every batch says about its issuer and timing. */
async function assertAbout(changes: StatusChanges, pki: Pki, source: string, changedAt: number): Promise<void> {
  const issuer = await readPemDer(pki.ca);
  assert.equal(changes.source, source);
  assert.ok(changes.issuer.certificate.equals(issuer));
  assert.ok(changes.issuer.subjectDer.equals(certificateFields(issuer).subjectDer));
  const id = await certIdOfFiles(pki.good, pki.ca, "sha256");
  assert.ok(changes.issuer.hashes.get("sha256")?.keyHash.equals(id.issuerKeyHash), "enough to compute every CertID");
  assert.equal(changes.changedAt, changedAt);
  assert.ok(changes.appliedAt >= changes.changedAt - 1000 && changes.appliedAt <= systemClock.now());
}

describe("change events", () => {
  test("index.txt: openssl ca -revoke, a newly issued certificate, and a removed line (a whole parse, compared on a loading thread)", async () => {
    const pki = await createPki({ dir: join(dir, "index") });
    const leaf = await issueCertificate(pki, "leaf", { commonName: "leaf.demo.vouch.test" });
    const source = await openIndexSource({ file: pki.index, issuer: await readPemDer(pki.ca), clock: systemClock, logger: silentLogger, pollIntervalMs: 20 });
    await expectChanges(source, async (changes) => {
      await revokeCertificate(pki, leaf, "superseded");
      const revoked = await changes.next("the revocation");
      assert.deepEqual(listed(revoked), [`${await serialOf(pki, leaf)}:revoked`]);
      await assertAbout(revoked, pki, "index", await mtimeOf(pki.index));

      const later = await issueCertificate(pki, "later", { commonName: "later.demo.vouch.test" });
      assert.deepEqual(listed(await changes.next("the issuance")), [`${await serialOf(pki, later)}:issued`]);

      // Rewritten with the same content: no event.
      const content = await readFile(pki.index, "utf8");
      await writeFile(`${pki.index}.tmp`, content);
      await rename(`${pki.index}.tmp`, pki.index);
      // Seen by the source before the next write: else one poll may stat this version and read the
      // next, whose change then carries this version's mtime (the check below failed so under load).
      await delay(300);
      const good = await serialOf(pki, pki.good);
      const lines = content.split("\n").filter((line) => !line.includes(`\t${good.toUpperCase()}\t`) && !line.includes(`\t${good.toUpperCase().replace(/^0+/, "")}\t`));
      await writeFile(`${pki.index}.tmp`, lines.join("\n"));
      await rename(`${pki.index}.tmp`, pki.index);
      const removed = await changes.next("the removed line");
      assert.deepEqual(listed(removed), [`${good}:removed`]);
      await assertAbout(removed, pki, "index", await mtimeOf(pki.index));
    });
  });

  test("CRLs: a new CRL from openssl ca -gencrl lists the certificate it revokes (compared with the CRL it replaces)", async () => {
    const pki = await createPki({ dir: join(dir, "crl") });
    await publishCrl(pki);
    const source = await openCrlSource({ files: [pki.crl], issuer: await readPemDer(pki.ca), clock: systemClock, logger: silentLogger, pollIntervalMs: 20 });
    await expectChanges(source, async (changes) => {
      await revokeCertificate(pki, pki.good, "keyCompromise");
      await publishCrl(pki);
      const revoked = await changes.next("the new CRL");
      assert.deepEqual(listed(revoked), [`${await serialOf(pki, pki.good)}:revoked`]);
      await assertAbout(revoked, pki, "crl", await mtimeOf(pki.crl));
      // The next CRL with nothing new: no event (expectChanges checks).
      await publishCrl(pki);
    });
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    test(`SQL store (${engine}): vouch store revoke and unrevoke list their serial, dated by the row's change time`, async () => {
      const { pki, store } = await filledStore(engine);
      const source = await openSqlSource({ database: store.database, schema: store.schema, issuer: await readPemDer(pki.ca), clock: systemClock, logger: silentLogger, pollIntervalMs: 20 });
      await expectChanges(source, async (changes) => {
        const serial = await serialOf(pki, pki.good);
        const revoke = await runVouch(["store", "revoke", serial, "--reason", "keyCompromise", ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
        assert.equal(revoke.code, 0, revoke.stderr);
        const revoked = await changes.next("the revocation");
        assert.deepEqual(listed(revoked), [`${serial}:revoked`]);
        await assertAbout(revoked, pki, "sql", await changeTime(store, pki, pki.good));
        const unrevoke = await runVouch(["store", "unrevoke", serial, ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
        assert.equal(unrevoke.code, 0, unrevoke.stderr);
        assert.deepEqual(listed(await changes.next("the unrevocation")), [`${serial}:unrevoked`]);
      });
    });
  }

  test("SQL store (postgres): a change another connection commits arrives by NOTIFY, one batch per transaction", async () => {
    const { pki, store } = await filledStore("postgres");
    // Polling only every minute: what arrives comes by NOTIFY.
    const source = await openSqlSource({ database: store.database, schema: store.schema, issuer: await readPemDer(pki.ca), clock: systemClock, logger: silentLogger, pollIntervalMs: 60_000 });
    const other = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
    await expectChanges(source, async (changes) => {
      // A writer whose clock is a few seconds behind: the batch carries its time, not the time it arrived.
      const at = systemClock.now() - 5000;
      await writeChanges(other, at, async (change) => {
        const issuerId = (await findIssuer(change.tx, issuerIdentity(await readPemDer(pki.ca)).keySha256))!;
        for (const file of [pki.good, pki.signer]) await setStatus(change, issuerId, (await certIdOfFiles(file, pki.ca)).serialNumber, { revokedAt: 0, reason: 1, invalidityDate: undefined });
        // Written again with what it already says: not a change.
        await setStatus(change, issuerId, (await certIdOfFiles(pki.revoked, pki.ca)).serialNumber, (await readCertificate(change.tx, issuerId, (await certIdOfFiles(pki.revoked, pki.ca)).serialNumber))!);
      });
      const batch = await changes.next("the other connection's change");
      assert.deepEqual(listed(batch), [`${await serialOf(pki, pki.good)}:revoked`, `${await serialOf(pki, pki.signer)}:revoked`].sort());
      await assertAbout(batch, pki, "sql", at);
    }).finally(() => other.close());
  });
});

describe("changeKind", () => {
  const good = { revokedAt: undefined, reason: undefined, invalidityDate: undefined };
  const revoked = { revokedAt: 5, reason: "keyCompromise", invalidityDate: undefined } as const;
  const lifted = { revokedAt: 5, reason: "removeFromCRL", invalidityDate: undefined } as const;
  const cases: [string, Parameters<typeof changeKind>, ReturnType<typeof changeKind>][] = [
    ["good → revoked", [good, revoked, true], "revoked"],
    ["revoked → revoked with another reason", [revoked, { ...revoked, reason: "superseded" }, true], "revoked"],
    ["revoked → the same", [revoked, { ...revoked }, true], undefined],
    ["revoked → good", [revoked, good, true], "unrevoked"],
    ["revoked → removeFromCRL (a delta CRL)", [revoked, lifted, false], "unrevoked"],
    ["CRL entry dropped", [revoked, undefined, false], "unrevoked"],
    ["index line of a revoked certificate removed", [revoked, undefined, true], "removed"],
    ["not listed → good", [undefined, good, true], "issued"],
    ["good → not listed", [good, undefined, true], "removed"],
    ["not listed → revoked", [undefined, revoked, true], "revoked"],
    ["CRL: unlisted → removeFromCRL", [undefined, lifted, false], undefined],
  ];
  for (const [name, args, expected] of cases) test(name, () => assert.equal(changeKind(...args), expected));
});

const stores: TestStore[] = [];
after(async () => {
  for (const store of stores) await store.drop();
});

/** A store holding a fresh PKI's index. */
async function filledStore(engine: "sqlite" | "postgres"): Promise<{ pki: Pki; store: TestStore }> {
  const pki = await createPki({ dir: join(dir, `sql-${engine}-${stores.length}`) });
  const store = await testStore(engine);
  stores.push(store);
  const db = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
  try {
    await importIndexFile(db, issuerIdentity(await readPemDer(pki.ca)), pki.index, systemClock.now());
  } finally {
    await db.close();
  }
  return { pki, store };
}

/** The change time the store keeps for `certificate`'s row. */
async function changeTime(store: TestStore, pki: Pki, certificate: string): Promise<number> {
  const db = await openStoreDatabase({ database: store.database, schema: store.schema, clock: systemClock });
  try {
    const issuerId = (await findIssuer(db, issuerIdentity(await readPemDer(pki.ca)).keySha256))!;
    return (await readCertificate(db, issuerId, (await certIdOfFiles(certificate, pki.ca)).serialNumber))!.updatedAt;
  } finally {
    await db.close();
  }
}
