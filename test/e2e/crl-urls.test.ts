/**
 * End to end: a `crl` source fetching its CRL from a CA's distribution point (a node:http server on
 * loopback serving `openssl ca -gencrl` CRLs with ETag and Last-Modified), asked with `openssl ocsp`.
 * A revocation published as a new CRL reaches answers within the schedule; an unchanged CRL costs a
 * 304; a rolled-back CRL and a badly signed one are refused while the held CRL keeps answering; the
 * server down at start (the state folder's CRL answers) and during the run (answers until nextUpdate,
 * then tryLater and /readyz 503).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, issueCertificate, openssl as runOpenssl, publishCrl, publishDeltaCrl, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { adminUrl, readyzUntil, scrape } from "../support/admin.ts";
import { startCrlServer, type CrlServer } from "../support/crl-server.ts";
import { fetchingCrlIssuer, ocspStatus, until } from "../support/crl-fetching.ts";
import { sampleValue } from "../support/prometheus.ts";
import { testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** One responder (`name`) answering for `pki` from the CRL at `url`, with an admin listener. */
function config(pki: Pki, url: string, stateFolder: string, name = "fetched"): string {
  return vouchConfig({
    admin: { listen: { host: "127.0.0.1", port: 0 } },
    responders: [testResponder(name, [fetchingCrlIssuer(pki, [url], { stateFolder })])],
  });
}

function logged(vouch: VouchProcess, msg: string): number {
  return vouch.logs.filter((line) => line.msg === msg).length;
}

const stamp = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";

describe("a crl source fetching from the CA's distribution point", () => {
  let pki: Pki;
  let server: CrlServer;
  let vouch: VouchProcess;
  let admin: string;
  let stateFolder: string;
  let later: string;
  let firstCrl: Buffer;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-crl-urls-"));
    pki = await createPki({ dir: join(dir, "pki") });
    later = await issueCertificate(pki, "later", { commonName: "later.demo.vouch.test" });
    await publishCrl(pki);
    firstCrl = await readFile(pki.crl);
    stateFolder = join(dir, "state");
    server = await startCrlServer();
    server.serve(firstCrl);
    vouch = await startVouch(config(pki, server.url, stateFolder));
    admin = await adminUrl(vouch);
  });
  after(async () => {
    await vouch?.stop();
    await server?.close();
  });

  test("answers come from the fetched CRL, and a newly published revocation reaches them within the schedule", async () => {
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
    assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    assert.equal(await ocspStatus(vouch, pki, later), "good");

    await revokeCertificate(pki, later, "keyCompromise");
    await publishCrl(pki);
    server.serve(await readFile(pki.crl));
    const started = Date.now();
    await until("the revocation in answers", () => ocspStatus(vouch, pki, later), (status) => status === "revoked");
    assert.ok(Date.now() - started < 10_000);
    const samples = await scrape(admin);
    const labels = { responder: "fetched", url: server.url };
    assert.equal(sampleValue(samples, "vouch_crl_number", labels), 3);
    assert.ok(sampleValue(samples, "vouch_crl_age_seconds", labels) < 60);
    // The state folder keeps the last good CRL: the one just fetched.
    const kept = (await readdir(stateFolder)).filter((name) => name.endsWith(".crl"));
    assert.equal(kept.length, 1);
    assert.deepEqual(await readFile(join(stateFolder, kept[0]!)), await readFile(pki.crl));
  });

  test("an unchanged CRL is asked for conditionally and answered 304", async () => {
    const before = server.answered.get(304) ?? 0;
    await until("304 answers", async () => server.answered.get(304) ?? 0, (count) => count >= before + 2);
    const samples = await scrape(admin);
    assert.equal(sampleValue(samples, "vouch_crl_fetch_last_result", { responder: "fetched", url: server.url, result: "not-modified" }), 1);
    assert.ok(Date.now() / 1000 - sampleValue(samples, "vouch_crl_fetch_last_success_seconds", { responder: "fetched", url: server.url }) < 5);
  });

  test("a rolled-back CRL (a lower cRLNumber) is refused and the held one keeps answering", async () => {
    server.serve(firstCrl);
    await until("the rollback refused", async () => logged(vouch, "fetched CRL refused (rollback); keeping the CRL held"), (count) => count >= 1);
    assert.match(String(vouch.logs.find((line) => line.msg === "fetched CRL refused (rollback); keeping the CRL held")!.problem), /cRLNumber 2 is lower than the held CRL's 3/);
    assert.equal(await ocspStatus(vouch, pki, later), "revoked");
    const samples = await scrape(admin);
    assert.equal(sampleValue(samples, "vouch_crl_number", { responder: "fetched", url: server.url }), 3);
  });

  test("a CRL with a bad signature is refused and the held one keeps answering", async () => {
    const derFile = join(stateFolder, "..", "tampered.der");
    await runOpenssl(["crl", "-in", pki.crl, "-outform", "DER", "-out", derFile]);
    const tampered = await readFile(derFile);
    tampered[tampered.length - 1]! ^= 0x01;
    server.serve(tampered);
    await until("the bad CRL refused", async () => logged(vouch, "fetched CRL refused; keeping the CRL held"), (count) => count >= 1);
    assert.match(String(vouch.logs.find((line) => line.msg === "fetched CRL refused; keeping the CRL held")!.problem), /signature/);
    assert.equal(await ocspStatus(vouch, pki, later), "revoked");
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
  });

  test("the server down at start: the state folder's last good CRL answers", async () => {
    await vouch.stop();
    await server.down();
    vouch = await startVouch(config(pki, server.url, stateFolder));
    admin = await adminUrl(vouch);
    assert.equal(logged(vouch, "last good CRL taken up from the state folder"), 1);
    assert.equal(await ocspStatus(vouch, pki, later), "revoked");
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
    assert.equal((await readyzUntil(admin, 200)).status, 200);
    const samples = await scrape(admin);
    assert.equal(sampleValue(samples, "vouch_crl_fetch_last_result", { responder: "fetched", url: server.url, result: "failed" }), 1);
  });

  test("the server down during the run: answers go on until nextUpdate, then tryLater and /readyz 503", async () => {
    await server.up();
    // A CRL that is due again in 6 s, fetched while the server is up.
    await runOpenssl(["ca", "-batch", "-config", pki.opensslConfig, "-gencrl", "-out", pki.crl, "-crl_lastupdate", stamp(0), "-crl_nextupdate", stamp(6_000)]);
    server.serve(await readFile(pki.crl));
    await until("the short CRL held", async () => sampleValue(await scrape(admin), "vouch_crl_number", { responder: "fetched", url: server.url }), (number) => number === 4);
    await server.down();
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
    assert.equal(await ocspStatus(vouch, pki, later), "revoked");
    await until("tryLater past nextUpdate", () => ocspStatus(vouch, pki, pki.good), (status) => status === "trylater", 15_000);
    const stale = await readyzUntil(admin, 503);
    assert.equal(stale.status, 503);
    assert.match(stale.body, /past its nextUpdate/);
  });
});

describe("delta CRLs found through the complete CRL's Freshest CRL extension", () => {
  let pki: Pki;
  let server: CrlServer;
  let vouch: VouchProcess;
  let later: string;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-crl-delta-"));
    pki = await createPki({ dir: join(dir, "pki") });
    later = await issueCertificate(pki, "later", { commonName: "later.demo.vouch.test" });
    server = await startCrlServer();
    // CRL number 2, pointing at its deltas; only the complete CRL's URL is configured.
    await publishCrl(pki, { crlExtensions: [`freshestCRL = URI:${server.urlOf("/delta.crl")}`] });
    server.serve(await readFile(pki.crl));
    vouch = await startVouch(config(pki, server.url, join(dir, "state"), "delta"));
  });
  after(async () => {
    await vouch?.stop();
    await server?.close();
  });

  test("a revocation published only in a delta CRL on top of base 2 reaches answers", async () => {
    assert.equal(await ocspStatus(vouch, pki, later), "good");
    await revokeCertificate(pki, later, "keyCompromise");
    const delta = join(pki.dir, "delta.crl");
    await publishDeltaCrl(pki, { out: delta, baseCrlNumber: 2 });
    server.serve(await readFile(delta), "/delta.crl");
    await until("the delta's revocation in answers", () => ocspStatus(vouch, pki, later), (status) => status === "revoked");
    assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
    assert.equal(logged(vouch, "following the CRL's Freshest CRL extension to its delta CRLs"), 1);
  });
});
