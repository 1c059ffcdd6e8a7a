/**
 * End to end (issue 15, "staged rollover"), real `vouch serve` processes and `openssl ca`-made signers:
 * - with two worker processes, a signer directory holding the current signer (expiring in seconds)
 *   and the next (valid from a few seconds in, `activateAfter` later): clients asking without pause
 *   through the switch and the expiry get no failed request, the old signer until the activation,
 *   the next one after, every nextUpdate within its signer's validity; openssl verifies both;
 * - a new signer dropped into the directory of a running server is used without SIGHUP; a bad one
 *   (a certificate with a key not its own) is rejected with a log line and a readiness warning while
 *   the current signer goes on; a key-file signer whose certificate file is overwritten with garbage
 *   keeps signing with the old one, and takes a re-issued certificate for its key when it comes.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { certificateSerial, createPki, openssl as opensslOrThrow, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { postOcsp } from "../support/openssl.ts";
import { adminUrlOf, basicOf, caTime, dropSigner, issueSigner, ocspRequest, opensslVerifiesGood, signerSerial, untilSignedBy, type IssuedSigner } from "../support/signers.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

const HOUR = 3_600_000;
let pki: Pki;
let dir: string;
let caDer: Buffer;
let goodSerial: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-rollover-"));
  pki = await createPki({ dir: join(dir, "pki") });
  caDer = await readPemDer(pki.ca);
  goodSerial = await certificateSerial(pki.good);
});

/** One responder on `port` answering for the PKI's CA, signed for by `signer`; an admin listener testing signers every second. */
function config(port: number, signer: YamlFields): string {
  return vouchConfig({
    admin: { listen: { host: "127.0.0.1", port: 0 }, readiness: { signerTestInterval: "PT1S" } },
    responders: [testResponder("rollover", [pkiIssuer(pki, { signer })], { listen: { host: "127.0.0.1", port }, responseValidity: "PT1H" })],
  });
}

describe("staged rollover under load, with two worker processes", () => {
  let vouch: VouchProcess;
  let current: IssuedSigner;
  let next: IssuedSigner;
  let activation: number;
  let expiry: number;

  before(async () => {
    const signers = join(dir, "staged");
    await mkdir(signers);
    const now = Math.floor(Date.now() / 1000) * 1000;
    // Room for a slow start of two workers on a busy machine (the full suite runs four files at once).
    activation = now + 20_000;
    expiry = now + 26_000;
    current = await issueSigner(pki, signers, "current", now - HOUR, expiry);
    // Valid from 17 s in; takes over 3 s after that (activateAfter), before the current one expires.
    next = await issueSigner(pki, signers, "next", activation - 3_000, now + 24 * HOUR);
    vouch = await startVouch(
      config(await freePort(), { directory: signers, activateAfter: "PT3S" }),
      { args: ["--workers", "2"] },
    );
  });

  after(async () => {
    if (vouch !== undefined) await stopAndExpectZero(vouch);
  });

  test("clients asking through the activation and the expiry get no failed request; each signer signs only inside its window", async () => {
    assert.ok(Date.now() < activation - 4_000, "the server took too long to start for this test's timeline");
    const request = ocspRequest(caDer, goodSerial);
    const seen: { serial: string; at: number; nextUpdate: number; body: Buffer }[] = [];
    const failures: string[] = [];
    const client = async () => {
      // Asking only from shortly before the activation: the load is for the switch, not the wait.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, activation - 4_000 - Date.now())));
      while (Date.now() < expiry + 2_000) {
        const at = Date.now();
        try {
          const response = await postOcsp(vouch.baseUrl, request);
          const statuses = certStatuses(response.body);
          if (response.status !== 200 || statuses[0] !== "good") failures.push(`${response.status} ${statuses.join()}`);
          else seen.push({ serial: signerSerial(response.body), at, nextUpdate: basicOf(response.body).responses[0]!.nextUpdate!.getTime(), body: response.body });
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    assert.deepEqual(failures, []);
    const byCurrent = seen.filter((response) => response.serial === current.serial);
    const byNext = seen.filter((response) => response.serial === next.serial);
    assert.equal(byCurrent.length + byNext.length, seen.length, "only the two signers sign");
    assert.ok(byCurrent.length > 0 && byNext.length > 0, `both signed (${byCurrent.length}, ${byNext.length})`);
    // A request sent before the activation may be answered after it, not the other way round.
    assert.ok(byNext.every((response) => response.at >= activation - 1_000), "the next signer waited for its activation");
    assert.ok(byCurrent.every((response) => response.at < activation + 1_000), "the current signer stopped at the activation");
    assert.ok(byCurrent.every((response) => response.nextUpdate <= expiry), "no response outlives the current signer");
    // The current signer has expired by now: verified as of when it signed.
    await opensslVerifiesGood(pki, byCurrent.at(-1)!.body, goodSerial, byCurrent.at(-1)!.at);
    await opensslVerifiesGood(pki, byNext.at(-1)!.body, goodSerial);
    const rollovers = await waitForLogs(vouch, withMessage("signer rollover: signing with the next signer"), 2);
    assert.deepEqual(new Set(rollovers.map((record) => record.serial)), new Set([next.serial]));
    assert.equal(new Set(rollovers.map((record) => record.pid)).size, 2, "each worker rolled over");
  });
});

describe("signer files changed beside a running server", () => {
  let vouch: VouchProcess;
  let signers: string;
  let first: IssuedSigner;
  let fileSigner: IssuedSigner;

  before(async () => {
    signers = join(dir, "dropped");
    await mkdir(signers);
    const now = Date.now();
    first = await issueSigner(pki, signers, "first", now - 2 * HOUR, now + 48 * HOUR);
    fileSigner = await issueSigner(pki, await mkdtemp(join(dir, "file-")), "file-signer", now - 2 * HOUR, now + 48 * HOUR);
    vouch = await startVouch(
      vouchConfig({
        admin: { listen: { host: "127.0.0.1", port: 0 } },
        responders: [
          testResponder("directory", [pkiIssuer(pki, { signer: { directory: signers, pollInterval: "PT1S" } })]),
          testResponder("file", [pkiIssuer(pki, { signer: { certificate: fileSigner.certificate, key: fileSigner.key, pollInterval: "PT1S" } })], { path: "/file" }),
        ],
      }),
    );
  });

  after(async () => {
    await vouch?.stop();
  });

  const signedBy = async (path: string, serial: string) => untilSignedBy(`${vouch.baseUrl}${path}`, ocspRequest(caDer, goodSerial), serial);
  const verified = async (body: Buffer) => opensslVerifiesGood(pki, body, goodSerial);

  test("a new signer dropped into the directory is used without SIGHUP; a bad one is rejected and the current one goes on", async () => {
    await verified(await signedBy("/", first.serial));
    const now = Date.now();
    const dropped = await issueSigner(pki, await mkdtemp(join(dir, "new-")), "dropped", now - HOUR, now + 72 * HOUR);
    await dropSigner(dropped, signers, "dropped");
    await verified(await signedBy("/", dropped.serial));
    const loaded = await waitForLogs(vouch, (record) => record.msg === "signer loaded from changed files" && record.serial === dropped.serial);
    assert.equal(loaded[0]!.responder, "directory");

    // A certificate with a key that is not its own: rejected, said why, and the signer in use stays.
    await copyFile(first.key, join(signers, "mismatched.key"));
    await copyFile(dropped.certificate, join(signers, "mismatched.pem"));
    const rejected = await waitForLogs(vouch, withMessage("new signer files rejected"));
    assert.match(String(rejected[0]!.err), /mismatched\.pem: .*the key does not belong to the signer certificate/);
    await verified(await signedBy("/", dropped.serial));
    const admin = await adminUrlOf(vouch);
    const readyz = await fetch(`${admin}/readyz`);
    assert.equal(readyz.status, 200);
    assert.match(await readyz.text(), /^\{"ready":true,"warnings":\[\{"responder":"directory",.*"signer files rejected: mismatched\.pem: [^"]*does not belong/);
  });

  test("a key-file signer's certificate overwritten with garbage keeps the old one; a re-issued certificate for its key is taken up", async () => {
    await verified(await signedBy("/file", fileSigner.serial));
    await writeFile(fileSigner.certificate, "not a certificate\n");
    const rejected = await waitForLogs(vouch, withMessage("changed signer files rejected; keeping the current signer"));
    assert.match(String(rejected[0]!.err), /not a PEM or DER X\.509 certificate/);
    await verified(await signedBy("/file", fileSigner.serial));

    // The same key, a new certificate from the CA (as a renewal without a new key would bring).
    const csr = join(pki.stateDir, "reissue.csr");
    await opensslOrThrow(["req", "-new", "-key", fileSigner.key, "-out", csr, "-subj", "/C=SE/O=Vouch Demo/CN=file-signer", "-config", pki.opensslConfig]);
    const reissued = join(dir, "reissued.pem");
    await opensslOrThrow(["ca", "-batch", "-config", pki.opensslConfig, "-in", csr, "-out", reissued, "-notext", "-extensions", "signer_ext", "-startdate", caTime(Date.now() - HOUR), "-enddate", caTime(Date.now() + 96 * HOUR)]);
    const reissuedSerial = new X509Certificate(await readPemDer(reissued)).serialNumber.toUpperCase();
    await copyFile(reissued, fileSigner.certificate);
    await verified(await signedBy("/file", reissuedSerial));
  });
});
