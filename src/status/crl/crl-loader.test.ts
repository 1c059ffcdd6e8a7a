import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fixedClock, systemClock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import { recordingLogger, silentLogger } from "../../observability/logger.ts";
import type { Pki, PkiKeyType } from "../../pki/openssl-pki.ts";
import { certificateSerial, createPki, issueCertificate, publishCrl, publishDeltaCrl, readPemDer, revokeCertificate } from "../../pki/openssl-pki.ts";
import { certIdOfFiles } from "../test-support/cert-id-fixture.ts";
import { openCrlSource } from "./crl-loader.ts";
import { statusSourceContract } from "../status-source.contract.ts";
import { pkiSuite, type PkiSuite } from "../test-support/pki-suite.ts";
import { waitUntil } from "../test-support/wait-until.ts";

const SIGNAL = new AbortController().signal;
const DAY = 86_400_000;

statusSourceContract("openCrlSource", async (pki) =>
  openCrlSource({ files: [pki.crl], issuer: await readPemDer(pki.ca), clock: systemClock, logger: silentLogger }),
);

describe("openCrlSource", () => {
  let suite: PkiSuite;
  let dir: string, pki: Pki, issuer: Buffer;
  before(async () => {
    ({ dir, pki, issuer } = suite = await pkiSuite("vouch-crl-", { below: "main" }));
  });
  after(() => suite.remove());

  /** Expects openCrlSource to reject with a ConfigError about `file` whose message matches `problem`. */
  const rejectsWith = async (files: string[], problem: RegExp, issuerDer = issuer, clock = systemClock): Promise<void> => {
    await assert.rejects(openCrlSource({ files, issuer: issuerDer, clock, logger: silentLogger }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.file, files[0]);
      assert.equal(error.field, "files[0]");
      assert.match(error.message, problem);
      return true;
    });
  };

  test("answers with the CRL's thisUpdate and nextUpdate, and good for unlisted serials", async () => {
    const source = await openCrlSource({ files: [pki.crl], issuer, clock: systemClock, logger: silentLogger });
    try {
      const answer = await source.status(await certIdOfFiles(pki.good, pki.ca), SIGNAL);
      assert.equal(answer?.kind, "good");
      assert.ok(answer?.nextUpdate !== undefined);
      assert.equal(answer.nextUpdate.getTime() - answer.thisUpdate.getTime(), 7 * DAY);
    } finally {
      await source.close();
    }
  });

  test("reports freshness: when the CRL in use was loaded and its nextUpdate; a newer CRL replaces both", async () => {
    const freshPki = await createPki({ dir: join(dir, "fresh") });
    // Ahead of the wall clock, so that the CRL published below is not "from the future" for it.
    const clock = fixedClock(Date.now() + 600_000);
    const loadedAt = clock.now();
    const source = await openCrlSource({ files: [freshPki.crl], issuer: await readPemDer(freshPki.ca), clock, logger: silentLogger, pollIntervalMs: 50 });
    try {
      const first = source.freshness!()!;
      assert.equal(first.loadedAt, loadedAt);
      const answer = await source.status(await certIdOfFiles(freshPki.good, freshPki.ca), SIGNAL);
      assert.equal(first.nextUpdate, answer!.nextUpdate!.getTime());
      clock.advance(1000);
      await publishCrl(freshPki, { crlHours: 1 });
      const next = await waitUntil("the new CRL", () => (source.freshness!()!.loadedAt === loadedAt + 1000 ? source.freshness!() : undefined));
      assert.ok(next!.nextUpdate! < first.nextUpdate!, "the one-hour CRL's nextUpdate");
    } finally {
      await source.close();
    }
    assert.equal(source.freshness!(), undefined);
  });

  test("reads a DER CRL as well as PEM", async () => {
    const der = join(dir, "der.crl");
    await publishCrl(pki, { der: true, out: der });
    assert.equal((await readFile(der))[0], 0x30);
    const source = await openCrlSource({ files: [der], issuer, clock: systemClock, logger: silentLogger });
    try {
      assert.equal((await source.status(await certIdOfFiles(pki.revoked, pki.ca), SIGNAL))?.kind, "revoked");
    } finally {
      await source.close();
    }
  });

  test("verifies CRLs signed by RSA, RSA-PSS, Ed25519 and P-384 CAs", async () => {
    const types: PkiKeyType[] = ["rsa-2048", "rsa-pss-2048", "ed25519", "ecdsa-p384"];
    const pkis = await Promise.all(types.map((caKeyType) => createPki({ dir: join(dir, caKeyType), caKeyType })));
    for (const [i, other] of pkis.entries()) {
      const source = await openCrlSource({ files: [other.crl], issuer: await readPemDer(other.ca), clock: systemClock, logger: silentLogger });
      try {
        const answer = await source.status(await certIdOfFiles(other.revoked, other.ca, "sha256"), SIGNAL);
        assert.equal(answer?.kind, "revoked", types[i]);
        assert.equal(answer.reason, "keyCompromise");
      } finally {
        await source.close();
      }
    }
  });

  test("refuses a CRL whose issuer is not the issuer certificate", async () => {
    await rejectsWith([pki.crl], /issuer is not the issuer certificate's subject/, await readPemDer(pki.foreignCa));
  });

  test("refuses a CRL signed by another key under the same name", async () => {
    const twin = await createPki({ dir: join(dir, "twin") });
    await rejectsWith([twin.crl], /does not verify/);
  });

  test("refuses a CRL with a flipped signature byte", async () => {
    const der = join(dir, "flipped.crl");
    await publishCrl(pki, { der: true, out: der });
    const bytes = await readFile(der);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x01;
    await writeFile(der, bytes);
    await rejectsWith([der], /does not verify/);
  });

  test("refuses a CRL with a critical issuingDistributionPoint", async () => {
    const file = join(dir, "idp.crl");
    await publishCrl(pki, {
      out: file,
      crlExtensions: ["issuingDistributionPoint = critical,@idp"],
      sections: "[ idp ]\nfullname = URI:http://crl.demo.vouch.test/ca.crl\n",
    });
    await rejectsWith([file], /unsupported critical extension issuingDistributionPoint/);
  });

  test("refuses a CRL with an unknown critical extension", async () => {
    const file = join(dir, "unknown-critical.crl");
    await publishCrl(pki, { out: file, crlExtensions: ["1.3.6.1.4.1.99999.1 = critical,ASN1:NULL"] });
    await rejectsWith([file], /unsupported critical extension 1\.3\.6\.1\.4\.1\.99999\.1/);
  });

  test("refuses a CRL whose thisUpdate is in the future", async () => {
    await rejectsWith([pki.crl], /thisUpdate .* is in the future/, issuer, fixedClock("2001-01-01T00:00:00Z"));
  });

  test("refuses a file that is not a CRL", async () => {
    await rejectsWith([pki.ca], /neither DER nor a PEM X509 CRL/);
  });

  test("serves CRL data past its nextUpdate (guardStale decides what to do with it)", async () => {
    const source = await openCrlSource({ files: [pki.crl], issuer, clock: fixedClock(systemClock.now() + 30 * DAY), logger: silentLogger });
    try {
      assert.equal((await source.status(await certIdOfFiles(pki.good, pki.ca), SIGNAL))?.kind, "good");
    } finally {
      await source.close();
    }
  });

  test("applies a delta CRL on top of its base: new revocations, removeFromCRL, the delta's times", async () => {
    const deltaPki = await createPki({ dir: join(dir, "delta") });
    const held = await issueCertificate(deltaPki, "held", { commonName: "held.demo.vouch.test" });
    const later = await issueCertificate(deltaPki, "later", { commonName: "later.demo.vouch.test" });
    await revokeCertificate(deltaPki, held, "certificateHold");
    await publishCrl(deltaPki); // cRLNumber 2: revoked.pem (keyCompromise) and held.pem (certificateHold)
    // The delta's own database: the hold is released, and `later` is newly revoked.
    const deltaIndex = join(deltaPki.stateDir, "delta-index.txt");
    const row = async (cert: string, revocation: string): Promise<string> =>
      `R\t291231235959Z\t${revocation}\t${await certificateSerial(cert)}\tunknown\t/CN=x\n`;
    await writeFile(deltaIndex, (await row(held, "261124085940Z,removeFromCRL")) + (await row(later, "261124085940Z,CAkeyTime,20250101000000Z")));
    const delta = join(deltaPki.dir, "delta.crl");
    await publishDeltaCrl(deltaPki, { out: delta, baseCrlNumber: 2, database: deltaIndex, crlHours: 1 });

    const caDer = await readPemDer(deltaPki.ca);
    const baseOnly = await openCrlSource({ files: [deltaPki.crl], issuer: caDer, clock: systemClock, logger: silentLogger });
    const withDelta = await openCrlSource({ files: [deltaPki.crl, delta], issuer: caDer, clock: systemClock, logger: silentLogger });
    try {
      const heldId = await certIdOfFiles(held, deltaPki.ca);
      const laterId = await certIdOfFiles(later, deltaPki.ca);
      const revokedId = await certIdOfFiles(deltaPki.revoked, deltaPki.ca);
      assert.equal((await baseOnly.status(heldId, SIGNAL))?.kind, "revoked");
      assert.equal((await baseOnly.status(laterId, SIGNAL))?.kind, "good");

      assert.equal((await withDelta.status(heldId, SIGNAL))?.kind, "good", "removeFromCRL releases the hold");
      const laterAnswer = await withDelta.status(laterId, SIGNAL);
      assert.equal(laterAnswer?.kind, "revoked");
      assert.equal(laterAnswer.reason, "cACompromise");
      assert.deepEqual(laterAnswer.invalidityDate, new Date("2025-01-01T00:00:00Z"));
      const revokedAnswer = await withDelta.status(revokedId, SIGNAL);
      assert.equal(revokedAnswer?.kind, "revoked", "base entries still answer");
      assert.equal(revokedAnswer.reason, "keyCompromise");
      assert.ok(revokedAnswer.nextUpdate !== undefined);
      assert.equal(revokedAnswer.nextUpdate.getTime() - revokedAnswer.thisUpdate.getTime(), 3_600_000, "the delta's times");
    } finally {
      await baseOnly.close();
      await withDelta.close();
    }
  });

  test("refuses delta CRLs without a complete CRL", async () => {
    const delta = join(dir, "lonely-delta.crl");
    await publishDeltaCrl(pki, { out: delta, baseCrlNumber: 1 });
    await assert.rejects(
      openCrlSource({ files: [delta], issuer, clock: systemClock, logger: silentLogger }),
      (error: unknown) => error instanceof ConfigError && error.field === "files" && /no complete CRL/.test(error.message),
    );
  });

  test("picks up a newly published CRL, and keeps the last good CRL when a new file is broken", async () => {
    const reloadPki = await createPki({ dir: join(dir, "reload") });
    const caDer = await readPemDer(reloadPki.ca);
    const logger = recordingLogger();
    const source = await openCrlSource({ files: [reloadPki.crl], issuer: caDer, clock: systemClock, logger, pollIntervalMs: 50 });
    try {
      const goodId = await certIdOfFiles(reloadPki.good, reloadPki.ca);
      assert.equal((await source.status(goodId, SIGNAL))?.kind, "good");
      await revokeCertificate(reloadPki, reloadPki.good, "affiliationChanged");
      await publishCrl(reloadPki);
      const answer = await waitUntil("the new CRL", async () => {
        const current = await source.status(goodId, SIGNAL);
        return current?.kind === "revoked" ? current : undefined;
      });
      assert.equal(answer.reason, "affiliationChanged");

      const bytes = await readFile(reloadPki.crl, "utf8");
      // Half the PEM body: a publisher that died mid-write.
      const lines = bytes.trimEnd().split("\n");
      const truncated = [...lines.slice(0, Math.floor(lines.length / 2)), lines.at(-1)].join("\n");
      await writeFile(`${reloadPki.crl}.tmp`, `${truncated}\n`);
      await rename(`${reloadPki.crl}.tmp`, reloadPki.crl);
      const warning = await waitUntil("the warning", () => logger.records.find((r) => r.level === "warn"));
      assert.equal(warning.fields.file, reloadPki.crl);
      assert.equal((await source.status(goodId, SIGNAL))?.kind, "revoked", "the last good CRL still answers");
    } finally {
      await source.close();
    }
  });

  test("rejects an empty file list with ConfigError(files)", async () => {
    await assert.rejects(openCrlSource({ files: [], issuer, clock: systemClock, logger: silentLogger }), (error: unknown) => error instanceof ConfigError && error.field === "files");
  });
});
