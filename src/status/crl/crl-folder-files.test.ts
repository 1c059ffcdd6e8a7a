import assert from "node:assert/strict";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { systemClock } from "../../clock.ts";
import { recordingLogger } from "../../observability/logger.ts";
import { createPki, issueCertificate, publishCrl, revokeCertificate, type Pki } from "../../pki/openssl-pki.ts";
import { certIdOfFiles } from "../test-support/cert-id-fixture.ts";
import { pkiSuite, type PkiSuite } from "../test-support/pki-suite.ts";
import { waitUntil } from "../test-support/wait-until.ts";
import { openCrlSource } from "./crl-loader.ts";

const SIGNAL = new AbortController().signal;

let suite: PkiSuite;
let other: Pki;
before(async () => {
  suite = await pkiSuite("vouch-crl-folder-files-", { below: "ca" });
  other = await createPki({ dir: join(suite.dir, "other") });
});
after(() => suite?.remove());

test("a folder source takes the files that join the folder without a reload, and lets go of those that leave it", async () => {
  const { pki, issuer } = suite;
  const folder = join(suite.dir, "crls");
  await mkdir(folder);
  const later = await issueCertificate(pki, "later", { commonName: "later.demo.vouch.test" });
  await publishCrl(pki, { out: join(folder, "ca-1.crl") });
  const logger = recordingLogger();
  const source = await openCrlSource({ folder, files: [], issuer, clock: systemClock, logger, pollIntervalMs: 50 });
  const status = async (cert: string) => (await source.status(await certIdOfFiles(cert, pki.ca), SIGNAL))?.kind;
  const logged = (message: string) => logger.records.filter((record) => record.message === message).map((record) => String(record.fields.file));
  try {
    assert.equal(await status(later), "good");

    // Another CA of the same name (the test PKIs share theirs): its CRL names this issuer, but this issuer's key does not verify it.
    await publishCrl(other, { out: join(folder, "other.crl"), der: true });
    await waitUntil("the other CA's CRL set aside", () => (logged("file in the CRL folder names this issuer but is not usable; not taken").includes(join(folder, "other.crl")) ? true : undefined));

    // The CA publishes its next CRL under a new name, then the old one is removed.
    await revokeCertificate(pki, later, "keyCompromise");
    await publishCrl(pki, { out: join(folder, "ca-2.crl"), der: true });
    await waitUntil("the new file's revocation", async () => ((await status(later)) === "revoked" ? true : undefined));
    assert.ok(logged("CRL file joined the folder; taken").includes(join(folder, "ca-2.crl")));
    assert.ok(!logged("CRL file joined the folder; taken").includes(join(folder, "other.crl")));
    await rm(join(folder, "ca-1.crl"));
    await waitUntil("the old file let go", () => (logged("CRL file left the folder; no longer used").length > 0 ? true : undefined));
    assert.equal(await status(later), "revoked");
    assert.equal(await status(pki.revoked), "revoked");
    assert.equal(await status(pki.good), "good");

    // A folder emptied by mistake keeps the CRLs it held.
    await rm(join(folder, "ca-2.crl"));
    await waitUntil("the empty folder noticed", () => (logger.records.some((record) => record.message === "the CRL folder no longer holds a CRL of this issuer; keeping the ones it did") ? true : undefined));
    assert.equal(await status(later), "revoked");
  } finally {
    await source.close();
  }
});
