/**
 * End to end: /metrics and /readyz on the admin listener of a real `vouch serve`, after traffic from
 * `openssl ocsp` and raw HTTP; readiness with a CRL past its nextUpdate (made by `openssl ca -gencrl
 * -crl_nextupdate` in the past) and after a fresh CRL replaces it.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, openssl as runOpenssl, publishCrl, type Pki } from "../../src/pki/openssl-pki.ts";
import { responseStatusName } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { adminUrl, logLine, readyzUntil, scrape } from "../support/admin.ts";
import { sampleKey, sampleValue } from "../support/prometheus.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

function config(pki: Pki, source: YamlFields): string {
  return vouchConfig({
    admin: { listen: { host: "127.0.0.1", port: 0 }, readiness: { signerTestInterval: "PT1S" } },
    responders: [testResponder("obs", [pkiIssuer(pki, { sources: [source] })])],
  });
}

describe("metrics after known traffic, and a healthy server's readiness", () => {
  let pki: Pki;
  let vouch: VouchProcess;
  let admin: string;

  before(async () => {
    pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-obs-")), "pki") });
    vouch = await startVouch(config(pki, { type: "index", file: pki.index }));
    admin = await adminUrl(vouch);
  });
  after(async () => {
    await vouch?.stop();
  });

  test("3 good, 1 revoked and 1 malformed request show up as exactly these counters", async () => {
    const ask = (cert: string) =>
      openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", cert, "-CAfile", pki.root, "-verify_other", pki.ca]);
    for (let i = 0; i < 3; i++) assert.match((await ask(pki.good)).stdout, /: good/);
    assert.match((await ask(pki.revoked)).stdout, /: revoked/);
    const malformed = await postOcsp(`${vouch.baseUrl}/`, Buffer.from("this is not an OCSP request"));
    assert.equal(responseStatusName(malformed.body), "malformedRequest");

    // The log line of the refusal: fixed field names (docs/observability.md).
    const refused = await logLine(vouch, "request refused");
    assert.equal(refused.level, "info");
    assert.match(String(refused.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(refused.responder, "obs");
    assert.equal(refused.step, "decode");
    assert.equal(refused.result, "malformedRequest");
    assert.equal(refused.client, "127.0.0.1");

    const samples = await scrape(admin);
    const issuer = samples.find((sample) => sample.name === "vouch_source_results_total")!.labels.issuer!;
    assert.match(issuer, /CN=Vouch Demo Issuing CA/);
    const request = { responder: "obs", type: "basic", method: "POST", code: "200" };
    const expected = new Map<string, number>(
      (
        [
          ["vouch_requests_total", { ...request, outcome: "local", status: "successful" }, 4],
          ["vouch_requests_total", { ...request, outcome: "error", status: "malformedRequest" }, 1],
          ["vouch_answers_total", { responder: "obs", status: "good" }, 3],
          ["vouch_answers_total", { responder: "obs", status: "revoked" }, 1],
          ["vouch_step_results_total", { responder: "obs", step: "decode", result: "passed" }, 4],
          ["vouch_step_results_total", { responder: "obs", step: "decode", result: "malformedRequest" }, 1],
          ["vouch_step_results_total", { responder: "obs", step: "local-validation", result: "passed" }, 4],
          ["vouch_step_results_total", { responder: "obs", step: "sign", result: "answered" }, 4],
          ["vouch_step_results_total", { responder: "obs", step: "send", result: "passed" }, 5],
          ["vouch_source_results_total", { responder: "obs", issuer, source: "index", result: "good" }, 3],
          ["vouch_source_results_total", { responder: "obs", issuer, source: "index", result: "revoked" }, 1],
          ["vouch_signer_results_total", { responder: "obs", issuer, result: "signed" }, 4],
        ] as const
      ).map(([name, labels, value]) => [sampleKey({ name, labels }), value]),
    );
    const counted = new Map(samples.filter((s) => s.name.startsWith("vouch_") && s.name.endsWith("_total") && s.value !== 0).map((s) => [sampleKey(s), s.value]));
    assert.deepEqual(counted, expected);
    // Series that nothing has counted yet are there at 0 (rates and dashboards see them).
    assert.equal(sampleValue(samples, "vouch_signer_results_total", { result: "error" }), 0);
    assert.equal(sampleValue(samples, "vouch_step_results_total", { step: "local-validation", result: "tryLater" }), 0);

    assert.equal(sampleValue(samples, "vouch_request_duration_seconds_count", { responder: "obs" }), 5);
    const age = sampleValue(samples, "vouch_source_data_age_seconds", { responder: "obs", source: "index" });
    assert.ok(age >= 0 && age < 600, `data age ${age}`);
    // index.txt has no nextUpdate.
    assert.equal(samples.filter((sample) => sample.name === "vouch_source_next_update_seconds").length, 0);
    assert.equal(sampleValue(samples, "vouch_issuer_ready", { responder: "obs", issuer }), 1);
  });

  test("/readyz answers 200 ready, /healthz ok, and other paths 404", async () => {
    const ready = await fetch(`${admin}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), "ready\n");
    const health = await fetch(`${admin}/healthz`);
    assert.equal(await health.text(), "ok\n");
    assert.equal((await fetch(`${admin}/nothing`)).status, 404);
    assert.equal((await fetch(`${admin}/metrics`, { method: "POST" })).status, 405);
    // The responder port keeps only /healthz: metrics and readiness are the admin listener's.
    assert.equal((await fetch(`${vouch.baseUrl}/healthz`)).status, 200);
  });
});

describe("readiness follows the CRL's nextUpdate", () => {
  let pki: Pki;
  let vouch: VouchProcess;
  let admin: string;

  before(async () => {
    pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-obs-crl-")), "pki") });
    // A CRL whose nextUpdate passed an hour ago (openssl ca takes both times explicitly).
    const stamp = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
    await runOpenssl(["ca", "-batch", "-config", pki.opensslConfig, "-gencrl", "-out", pki.crl, "-crl_lastupdate", stamp(-7_200_000), "-crl_nextupdate", stamp(-3_600_000)]);
    vouch = await startVouch(config(pki, { type: "crl", files: [pki.crl] }));
    admin = await adminUrl(vouch);
  });
  after(async () => {
    await vouch?.stop();
  });

  test("503 naming the issuer while the CRL is past nextUpdate; good answers become tryLater; 200 once a fresh CRL is loaded", async () => {
    const stale = await readyzUntil(admin, 503);
    assert.equal(stale.status, 503);
    const body = JSON.parse(stale.body) as { ready: boolean; failing: { responder: string; issuer: string; problems: string[] }[] };
    assert.equal(body.ready, false);
    assert.equal(body.failing.length, 1);
    assert.equal(body.failing[0]!.responder, "obs");
    assert.match(body.failing[0]!.issuer, /CN=Vouch Demo Issuing CA/);
    assert.match(body.failing[0]!.problems.join(";"), /past its nextUpdate/);

    const answer = await postOcsp(`${vouch.baseUrl}/`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]));
    assert.equal(responseStatusName(answer.body), "tryLater");
    const samples = await scrape(admin);
    assert.ok(sampleValue(samples, "vouch_source_next_update_seconds", { responder: "obs", source: "crl" }) < -3000);
    assert.equal(sampleValue(samples, "vouch_source_results_total", { responder: "obs", source: "crl", result: "error" }), 1);
    assert.equal(sampleValue(samples, "vouch_step_results_total", { responder: "obs", step: "local-validation", result: "tryLater" }), 1);
    assert.equal(sampleValue(samples, "vouch_requests_total", { responder: "obs", outcome: "error", status: "tryLater" }), 1);
    assert.equal(sampleValue(samples, "vouch_issuer_ready", { responder: "obs" }), 0);

    await publishCrl(pki);
    const fresh = await readyzUntil(admin, 200);
    assert.deepEqual(fresh, { status: 200, body: "ready\n" });
    const next = sampleValue(await scrape(admin), "vouch_source_next_update_seconds", { responder: "obs", source: "crl" });
    assert.ok(next > 3600, `next update in ${next} s`);
  });
});
