/**
 * End to end (issue 15, "watch"): signers whose certificates (made by `openssl ca` with exact
 * -startdate/-enddate) become valid and expire while a real `vouch serve` runs, seconds apart:
 * - a lone signer expiring: the warning log, vouch_signer_not_after_seconds (and not-before), every
 *   nextUpdate capped at its notAfter, /readyz ready with a warning, then after its notAfter
 *   `tryLater` (openssl ocsp says so), an error log and /readyz 503;
 * - a signer not yet valid: the server starts, answers tryLater and is not ready until its notBefore,
 *   then signs (openssl ocsp verifies).
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { certificateSerial, createPki, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { parseSamples, sampleValue } from "../support/prometheus.ts";
import { openssl, postOcsp } from "../support/openssl.ts";
import { adminUrlOf, basicOf, issueSigner, ocspRequest, type IssuedSigner } from "../support/signers.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs } from "../support/wait-for-log.ts";

let pki: Pki;
let caDer: Buffer;
let goodSerial: string;
let expiring: IssuedSigner;
let upcoming: IssuedSigner;
let expiresAt: number;
let validFrom: number;
let vouch: VouchProcess;
let admin: string;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), "vouch-signer-expiry-"));
  pki = await createPki({ dir: join(dir, "pki") });
  caDer = await readPemDer(pki.ca);
  goodSerial = await certificateSerial(pki.good);
  const now = Math.floor(Date.now() / 1000) * 1000;
  // Room for a slow start on a busy machine (the full suite runs four files at once).
  validFrom = now + 20_000;
  expiresAt = now + 32_000;
  // One at a time: `openssl ca` keeps its serial and database in files.
  expiring = await issueSigner(pki, dir, "expiring", now - 3_600_000, expiresAt);
  upcoming = await issueSigner(pki, dir, "upcoming", validFrom, now + 3_600_000);
  const responder = (name: string, path: string, signer: IssuedSigner) =>
    testResponder(name, [pkiIssuer(pki, { signer: { certificate: signer.certificate, key: signer.key } })], { path, responseValidity: "PT1H" });
  vouch = await startVouch(
    vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: 0 }, readiness: { signerTestInterval: "PT1S" } },
      responders: [responder("expiring", "/expiring", expiring), responder("upcoming", "/upcoming", upcoming)],
    }),
  );
  admin = await adminUrlOf(vouch);
});

after(async () => {
  await vouch?.stop();
});

/** `openssl ocsp` for the good certificate against a responder path, verifying with the PKI's root. */
function ask(path: string) {
  return openssl(["ocsp", "-url", `${vouch.baseUrl}${path}`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca]);
}

async function readyz(): Promise<{ status: number; body: string }> {
  const response = await fetch(`${admin}/readyz`);
  return { status: response.status, body: await response.text() };
}

async function until(at: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

test("a signer expiring in seconds: warned about, measured, caps nextUpdate, then tryLater and not ready; a signer not yet valid: tryLater until its notBefore", async () => {
  // Before the upcoming signer's notBefore (the server started well within 20 s of its issue).
  assert.ok(Date.now() < validFrom - 500, "the server took too long to start for this test's timeline");
  const warning = (await waitForLogs(vouch, (record) => record.level === "warn" && /expires .* and no other signer takes over/.test(String(record.msg))))[0]!;
  assert.equal(warning.serial, expiring.serial);
  assert.equal(warning.notAfter, new Date(expiresAt).toISOString());
  const notYet = await ask("/upcoming");
  assert.match(notYet.output, /Responder Error: trylater/, notYet.output);
  await waitForLogs(vouch, (record) => record.msg === "no signer certificate of the issuer is valid now: its requests get tryLater" && record.responder === "upcoming");
  const notReady = await readyz();
  assert.equal(notReady.status, 503);
  assert.match(notReady.body, /"responder":"upcoming".*no signer certificate is valid now/);

  const samples = parseSamples(await (await fetch(`${admin}/metrics`)).text());
  assert.equal(sampleValue(samples, "vouch_signer_not_after_seconds", { responder: "expiring", serial: expiring.serial }), expiresAt / 1000);
  assert.equal(sampleValue(samples, "vouch_signer_not_before_seconds", { responder: "upcoming", serial: upcoming.serial }), validFrom / 1000);

  const valid = await ask("/expiring");
  assert.match(valid.output, /Response verify OK/, valid.output);
  assert.match(valid.output, /: good/);
  // responseValidity is an hour, but no response may outlive its signer.
  const response = await postOcsp(`${vouch.baseUrl}/expiring`, ocspRequest(caDer, goodSerial));
  assert.equal(basicOf(response.body).responses[0]!.nextUpdate?.getTime(), expiresAt);

  await until(validFrom + 1000);
  const nowValid = await ask("/upcoming");
  assert.match(nowValid.output, /Response verify OK/, nowValid.output);
  assert.match(nowValid.output, /: good/);
  const ready = await readyz();
  assert.equal(ready.status, 200, ready.body);
  const warned = JSON.parse(ready.body) as { ready: boolean; warnings: { responder: string; warnings: string[] }[] };
  assert.equal(warned.ready, true);
  assert.match(warned.warnings.find((issuer) => issuer.responder === "expiring")?.warnings[0] ?? "", new RegExp(`^signer ${expiring.serial} expires .* and no other signer takes over$`));

  await until(expiresAt + 1500);
  const expired = await ask("/expiring");
  assert.match(expired.output, /Responder Error: trylater/, expired.output);
  await waitForLogs(vouch, (record) => record.msg === "no signer certificate of the issuer is valid now: its requests get tryLater" && record.responder === "expiring");
  const failing = await readyz();
  assert.equal(failing.status, 503);
  const report = JSON.parse(failing.body) as { failing: { responder: string; problems: string[] }[] };
  assert.deepEqual(report.failing.map((issuer) => issuer.responder), ["expiring"]);
  assert.match(report.failing[0]!.problems[0]!, new RegExp(`no signer certificate is valid now \\(${expiring.serial} valid`));
});
