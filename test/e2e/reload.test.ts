/**
 * Reloads while serving: a certificate revoked in index.txt, or a new CRL published, changes the
 * next answers without a restart, and not one request fails in between.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createPki, issueCertificate, publishCrl, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let indexPki: Pki;
let crlPki: Pki;
let vouch: VouchProcess;

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-reload-"));
  [indexPki, crlPki] = await Promise.all([createPki({ dir: join(base, "index") }), createPki({ dir: join(base, "crl") })]);
  await Promise.all([
    issueCertificate(indexPki, "victim", { commonName: "victim.index.test" }),
    issueCertificate(crlPki, "victim", { commonName: "victim.crl.test" }),
  ]);
  await publishCrl(crlPki);
  const responder = (name: string, pki: Pki, source: YamlFields) => testResponder(name, [pkiIssuer(pki, { sources: [source] })], { path: `/${name}` });
  vouch = await startVouch(
    vouchConfig({
      responders: [
        responder("index", indexPki, { type: "index", file: indexPki.index, pollInterval: "PT0.2S" }),
        responder("crl", crlPki, { type: "crl", files: [crlPki.crl], pollInterval: "PT0.2S" }),
      ],
    }),
  );
});

after(async () => {
  await vouch?.stop();
});

/**
 * Sends the request back to back until `until` resolves; returns every status seen and every
 * failure (anything but HTTP 200 with a successful OCSP response).
 */
async function hammer(url: string, request: Buffer, until: Promise<unknown>): Promise<{ statuses: string[]; failures: string[]; count: number }> {
  let done = false;
  void until.finally(() => (done = true));
  const statuses: string[] = [];
  const failures: string[] = [];
  let count = 0;
  const deadline = Date.now() + 30_000;
  while (!done && Date.now() < deadline) {
    const response = await postOcsp(url, request);
    count++;
    const status = response.status === 200 ? responseStatusName(response.body) : `HTTP ${response.status}`;
    if (status !== "successful") failures.push(status);
    else statuses.push(certStatuses(response.body)[0]!);
  }
  return { statuses, failures, count };
}

/** Resolves once `url` answers `revoked` for the request, polling; rejects after 20 s. */
async function becomesRevoked(url: string, request: Buffer): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const response = await postOcsp(url, request);
    if (responseStatusName(response.body) === "successful" && certStatuses(response.body)[0] === "revoked") return;
    await sleep(50);
  }
  throw new Error("the answer never changed to revoked");
}

describe("reloading revocation data while serving", () => {
  test("revoking a certificate in index.txt changes the next answers, with no failed request in between", async () => {
    const victim = join(indexPki.dir, "victim.pem");
    const url = `${vouch.baseUrl}/index`;
    const request = await opensslRequest(["-issuer", indexPki.ca, "-cert", victim, "-no_nonce"]);
    assert.deepEqual(certStatuses((await postOcsp(url, request)).body), ["good"]);
    const change = (async () => {
      await sleep(200);
      await revokeCertificate(indexPki, victim, "superseded");
      await becomesRevoked(url, request);
    })();
    const seen = await hammer(url, request, change);
    await change;
    assert.deepEqual(seen.failures, [], `${seen.failures.length} of ${seen.count} requests failed during the reload`);
    assert.ok(seen.statuses.includes("good"), "answered good before the change");
    assert.equal(seen.statuses.at(-1), "revoked");
  });

  test("publishing a new CRL changes the next answers, with no failed request in between", async () => {
    const victim = join(crlPki.dir, "victim.pem");
    const url = `${vouch.baseUrl}/crl`;
    const request = await opensslRequest(["-issuer", crlPki.ca, "-cert", victim, "-no_nonce"]);
    assert.deepEqual(certStatuses((await postOcsp(url, request)).body), ["good"]);
    const change = (async () => {
      await sleep(200);
      await revokeCertificate(crlPki, victim, "cessationOfOperation");
      assert.deepEqual(certStatuses((await postOcsp(url, request)).body), ["good"], "the CRL source answers from the CRL, not index.txt");
      await publishCrl(crlPki);
      await becomesRevoked(url, request);
    })();
    const seen = await hammer(url, request, change);
    await change;
    assert.deepEqual(seen.failures, [], `${seen.failures.length} of ${seen.count} requests failed during the reload`);
    assert.equal(seen.statuses.at(-1), "revoked");
  });
});
