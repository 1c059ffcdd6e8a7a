/**
 * End to end: `vouch check` and `vouch reload` with CRLs fetched from URLs (issue 16). check builds
 * the configuration as serve would but fetches nothing: it needs no network, leaves the state
 * folder as it was (it may run beside the serve it checks), checks the CRLs kept there, and says
 * what serve will fetch. reload builds the sources again, so it fetches every URL and list at once,
 * whatever the schedule: a CRL published since answers right after `vouch reload` exits.
 * The same holds for `trust.crls` URLs (CRLs the validation process fetches): check reads their state
 * folder only. The distribution point is a node:http server on loopback serving `openssl ca -gencrl` CRLs.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, issueCertificate, publishCrl, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { startCrlServer, type CrlServer } from "../support/crl-server.ts";
import { ocspStatus } from "../support/crl-fetching.ts";
import { pkiIssuer, pkiTrust, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouchWithFile, type VouchProcess } from "../support/vouch-process.ts";

describe("vouch check and vouch reload with CRLs fetched from URLs", () => {
  let pki: Pki;
  let later: string;
  let server: CrlServer;
  let dir: string;
  let stateFolder: string;
  let trustState: string;
  let configFile: string;
  let vouch: VouchProcess | undefined;

  const requests = () => [...server.answered.values()].reduce((a, b) => a + b, 0);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-crl-check-"));
    pki = await createPki({ dir: join(dir, "pki") });
    later = await issueCertificate(pki, "later", { commonName: "later.demo.vouch.test" });
    await publishCrl(pki);
    server = await startCrlServer();
    server.serve(await readFile(pki.crl));
    stateFolder = join(dir, "state");
    configFile = join(dir, "vouch.yaml");
    // A schedule that never fetches during the test: only a start or a reload does.
    const fetch = { stateFolder, maxInterval: "PT1H", margin: "PT1M", timeout: "PT5S" };
    const source = { type: "crl", urls: [server.url], lists: [server.urlOf("/crls/")], fetch };
    server.serve(Buffer.from("# no CRL listed yet\n"), "/crls/");
    // The validation process's CRLs fetched from a URL too: the CA's own, as a second distribution point.
    server.serve(await readFile(pki.crl), "/trust.crl");
    trustState = join(dir, "trust-state");
    const trust = pkiTrust(pki, { crls: [server.urlOf("/trust.crl")], crlFetch: { stateFolder: trustState, maxInterval: "PT1H", margin: "PT1M", timeout: "PT5S" } });
    await mkdir(trustState);
    await writeFile(configFile, vouchConfig({ trust, responders: [testResponder("fetched", [pkiIssuer(pki, { sources: [source] })])] }));
  });
  after(async () => {
    await vouch?.stop();
    await server?.close();
  });

  test("check fetches nothing and says what serve will fetch", async () => {
    const checked = await runVouch(["check", "--config", configFile], { timeoutMs: 60_000 });
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /valid: 1 responder, 1 issuer/);
    assert.match(checked.stdout, /CRLs: serve fetches 2 CRL URLs and 1 CRL list \(check fetched none; the state folder holds a last good CRL for 0 of the 2 URLs\)/);
    assert.equal(requests(), 0, "no request reached the CA's site");
    assert.deepEqual(await readdir(stateFolder), [], "the state folder is as it was");
    assert.deepEqual(await readdir(trustState), [], "trust.crlFetch's state folder is as it was");
  });

  test("check, beside a serve that fetched, reads the state folder's CRL and still fetches nothing", async () => {
    vouch = await startVouchWithFile(configFile, { args: ["--pid-file", join(dir, "vouch.pid")] });
    assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    const before = requests();
    const kept = await readdir(stateFolder);
    const keptForTrust = await readdir(trustState);
    assert.ok(keptForTrust.some((name) => name.endsWith(".crl")), "serve kept the trust CRL it fetched");
    const checked = await runVouch(["check", "--config", configFile], { timeoutMs: 60_000 });
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /the state folder holds a last good CRL for 2 of the 2 URLs/);
    assert.equal(requests(), before);
    assert.deepEqual(await readdir(stateFolder), kept);
    assert.deepEqual(await readdir(trustState), keptForTrust);
  });

  test("a broken CRL kept in the state folder is named by check (serve would ignore it), and check still passes", async () => {
    const crl = (await readdir(stateFolder)).find((name) => name.endsWith(".crl"))!;
    const good = await readFile(join(stateFolder, crl));
    await writeFile(join(stateFolder, crl), "not a CRL\n");
    try {
      const checked = await runVouch(["check", "--config", configFile], { timeoutMs: 60_000 });
      assert.equal(checked.code, 0, checked.stderr);
      assert.match(checked.stderr, /the state folder's CRL for this URL is not usable; ignored/);
    } finally {
      await writeFile(join(stateFolder, crl), good);
    }
  });

  test("reload fetches every URL at once: a CRL published since answers when vouch reload exits", async () => {
    assert.ok(vouch !== undefined);
    assert.equal(await ocspStatus(vouch, pki, later), "good");
    await revokeCertificate(pki, later, "keyCompromise");
    await publishCrl(pki);
    server.serve(await readFile(pki.crl));
    assert.equal(await ocspStatus(vouch, pki, later), "good", "the schedule alone has not fetched it yet");
    const reloaded = await runVouch(["reload", "--pid-file", join(dir, "vouch.pid")], { timeoutMs: 60_000 });
    assert.equal(reloaded.code, 0, reloaded.stderr + reloaded.stdout);
    assert.equal(await ocspStatus(vouch, pki, later), "revoked");
  });
});
