/**
 * Authoritative answers for a CA that publishes only CRLs (issue 16 item 4): a `crl` source paired
 * with a known-serials feed, a folder of the certificates the CA issued (watched). Asked with `openssl
 * ocsp`: a certificate the folder holds is good (or revoked, as the CRL says), one it does not hold
 * gets the non-issued policy (unknown; revoked with extended-revoke), and it becomes good once its
 * file is added to the folder.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, issueCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { ocspStatus, until } from "../support/crl-fetching.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** An issuer of `pki` answered from its CRL file, with `knownSerials` saying which serials it issued. */
const crlWithKnownSerials = (pki: Pki, knownSerials: YamlFields) => pkiIssuer(pki, { sources: [{ type: "crl", files: [pki.crl], knownSerials }] });

describe("a crl source with a known-serials folder", () => {
  let pki: Pki;
  let issued: string;
  let unlisted: string;
  let vouch: VouchProcess;
  let extended: VouchProcess;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-known-serials-"));
    pki = await createPki({ dir: join(dir, "pki") });
    // Signed by the CA, but not in the folder: as far as the feed knows, never issued.
    unlisted = await issueCertificate(pki, "unlisted", { commonName: "unlisted.demo.vouch.test" });
    issued = join(dir, "issued");
    await mkdir(issued);
    await copyFile(pki.good, join(issued, "good.pem"));
    await copyFile(pki.revoked, join(issued, "revoked.pem"));
    // Another CA's certificate in the folder counts for nothing.
    await copyFile(pki.foreign, join(issued, "foreign.pem"));
    const config = (nonIssued: string) =>
      vouchConfig({ responders: [testResponder("known", [crlWithKnownSerials(pki, { folder: issued, pollInterval: "PT1S" })], { nonIssued })] });
    vouch = await startVouch(config("unknown"));
    extended = await startVouch(config("revoked"));
  });
  after(async () => {
    await vouch?.stop();
    await extended?.stop();
  });

  test("issued certificates answer as the CRL says; a serial never issued gets the non-issued policy", async () => {
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
    assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    assert.equal(await ocspStatus(vouch, pki, unlisted), "unknown");
    // Extended revoke (RFC 6960 §2.2): revoked, reason certificateHold, revoked at the epoch.
    const { stdout } = await openssl(["ocsp", "-url", `${extended.baseUrl}/`, "-issuer", pki.ca, "-cert", unlisted, "-CAfile", pki.root, "-verify_other", pki.ca, "-no_nonce"]);
    assert.match(stdout, /: revoked/);
    assert.match(stdout, /Reason: certificateHold/);
    assert.match(stdout, /Revocation Time: Jan {2}1 00:00:00 1970 GMT/);
    assert.equal(await ocspStatus(extended, pki, pki.good), "good");
  });

  test("a certificate added to the folder is known at once", async () => {
    await copyFile(unlisted, join(issued, "unlisted.pem"));
    await until("the added certificate known", () => ocspStatus(vouch, pki, unlisted), (status) => status === "good");
  });
});

describe("a crl source with the SQL store's issued rows as known serials", () => {
  let pki: Pki;
  let unlisted: string;
  let database: string;
  let vouch: VouchProcess;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-known-sql-"));
    pki = await createPki({ dir: join(dir, "pki") });
    unlisted = await issueCertificate(pki, "unlisted", { commonName: "unlisted.demo.vouch.test" });
    database = join(dir, "issued.db");
    for (const certificate of [pki.good, pki.revoked]) {
      const added = await runVouch(["store", "add", certificate, "--database", database, "--issuer", pki.ca], { timeoutMs: 30_000 });
      assert.equal(added.code, 0, added.stderr);
    }
    vouch = await startVouch(vouchConfig({ responders: [testResponder("known-sql", [crlWithKnownSerials(pki, { database, pollInterval: "PT1S" })])] }));
  });
  after(async () => {
    await vouch?.stop();
  });

  test("a serial the store never listed is unknown, and good once vouch store add lists it", async () => {
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
    assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    assert.equal(await ocspStatus(vouch, pki, unlisted), "unknown");
    const added = await runVouch(["store", "add", unlisted, "--database", database, "--issuer", pki.ca], { timeoutMs: 30_000 });
    assert.equal(added.code, 0, added.stderr);
    await until("the added certificate known", () => ocspStatus(vouch, pki, unlisted), (status) => status === "good");
  });
});
