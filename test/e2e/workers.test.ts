/**
 * `vouch serve --workers N`: worker processes share the ports (SO_REUSEPORT) and all answer; a
 * worker killed under load is replaced while the others keep answering; SIGHUP reaches every
 * worker, the replacement included; SIGTERM stops them all and the supervisor exits 0.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { parseSamples } from "../support/prometheus.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

/** One responder, "shared", on `port`; `fields` add to the configuration, `responderFields` to the responder. */
const configYaml = (pki: Pki, port: number, fields: YamlFields = {}, responderFields: YamlFields = {}) =>
  vouchConfig({ ...fields, responders: [testResponder("shared", [pkiIssuer(pki)], { listen: { host: "127.0.0.1", port }, ...responderFields })] });

const workerPids = (vouch: VouchProcess) => vouch.logs.filter(withMessage("worker started")).map((record) => record.pid as number);

test("two workers share the port, both answer, and SIGTERM stops them all", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-workers-")), "pki") });
  const vouch = await startVouch(configYaml(pki, await freePort()), { args: ["--workers", "2"] });
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    // A worker's log line travels on its own stdout, not with its ready message: it may arrive later.
    await waitForLogs(vouch, withMessage("listening"), 2);
    assert.equal(new Set(vouch.logs.filter(withMessage("listening")).map((record) => record.pid)).size, 2, "each worker listens");
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]);
    const answers = await Promise.all(Array.from({ length: 40 }, () => postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })));
    assert.ok(answers.every((answer) => certStatuses(answer.body)[0] === "revoked"));
  } finally {
    await stopAndExpectZero(vouch);
  }
});

test("a worker killed under load is replaced; a client that retries sees no failure; SIGHUP reaches every worker", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-workers-")), "pki") });
  const vouch = await startVouch(configYaml(pki, await freePort()), { args: ["--workers", "2"] });
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    const [victim, survivor] = workerPids(vouch);
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]);
    const url = `${vouch.baseUrl}/`;
    // A connection per request, as OpenSSL's client makes them, retried up to three times 50 ms apart:
    // requests the killed worker held, or connections still queued on its listening socket while it
    // dies, are reset; a retry after that reaches a live worker.
    const ask = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await postOcsp(url, request, { connection: "close" });
        } catch (error) {
          if (attempt === 4) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    let replaced = false;
    const failures: string[] = [];
    let answered = 0;
    const client = async () => {
      const deadline = Date.now() + 60_000;
      let afterReplacement = 0;
      while (afterReplacement < 20 && Date.now() < deadline) {
        try {
          const response = await ask();
          const status = response.status === 200 ? responseStatusName(response.body) : `HTTP ${response.status}`;
          if (status === "successful") answered++;
          else failures.push(status);
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
        if (replaced) afterReplacement++;
      }
    };
    const clients = Promise.all([client(), client(), client()]);
    while (answered < 20) await new Promise((resolve) => setTimeout(resolve, 20));
    process.kill(victim!, "SIGKILL");
    const started = await waitForLogs(vouch, withMessage("worker started"), 3);
    replaced = true;
    await clients;
    assert.deepEqual(failures, [], `${failures.length} requests failed around the kill (${answered} answered)`);
    const replacement = started[2]!.pid as number;
    assert.ok(replacement !== victim && replacement !== survivor, "a new worker process took the killed one's place");
    assert.ok(vouch.logs.some((record) => record.msg === "worker exited; replacing it" && record.pid === victim && record.signal === "SIGKILL"));

    vouch.child.kill("SIGHUP");
    const reloaded = await waitForLogs(vouch, withMessage("reloaded"), 2);
    assert.deepEqual(new Set(reloaded.map((record) => record.pid)), new Set([survivor, replacement]), "both live workers reloaded");
  } finally {
    await stopAndExpectZero(vouch);
  }
});

test("a replacement that cannot start is retried with a growing delay, and serves once it can", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-workers-")), "pki") });
  const vouch = await startVouch(configYaml(pki, await freePort()), { args: ["--workers", "2"] });
  try {
    await waitForLogs(vouch, withMessage("ready"));
    const [victim, survivor] = workerPids(vouch);
    // The signer key disappears: no replacement can start until it is back.
    await rename(pki.signerKey, `${pki.signerKey}.away`);
    process.kill(victim!, "SIGKILL");
    const failed = await waitForLogs(vouch, withMessage("replacement worker failed to start"), 2, 30_000);
    assert.match(String(failed[0]!.err), /signer\.key/, "the reason names the field");
    await rename(`${pki.signerKey}.away`, pki.signerKey);
    const started = await waitForLogs(vouch, withMessage("worker started"), 3, 30_000);
    const delays = vouch.logs.filter(withMessage("worker exited; replacing it")).map((record) => record.restartInMs as number);
    assert.ok(delays.length >= 3, `${delays.length} exits logged`);
    assert.ok(
      delays.every((delay, index) => index === 0 || delay > delays[index - 1]!),
      `each quick death waits longer than the previous one: ${delays.join(", ")}`,
    );
    assert.notEqual(started[2]!.pid, survivor);
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })));
    assert.ok(answers.every((answer) => certStatuses(answer.body)[0] === "good"));
  } finally {
    await stopAndExpectZero(vouch);
  }
});

test("--workers must be a whole number, several workers need fixed ports, and --threads is its old name", async () => {
  const badCount = await runVouch(["serve", "--config", "/nonexistent.yaml", "--workers", "0"]);
  assert.notEqual(badCount.code, 0);
  assert.match(badCount.stderr, /--workers.*whole number/);
  const folder = await mkdtemp(join(tmpdir(), "vouch-workers-"));
  const pki = await createPki({ dir: join(folder, "pki") });
  const file = join(folder, "vouch.yaml");
  await writeFile(file, configYaml(pki, 0));
  for (const option of ["--workers", "--threads"]) {
    const zero = await runVouch(["serve", "--config", file, option, "2"]);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /responders\[0\]\.listen\.port: several workers need fixed ports/);
  }
});

test("with two workers, the supervisor's admin listener adds up every worker's metrics and combines their readiness", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-workers-")), "pki") });
  const [port, adminPort] = [await freePort(), await freePort()];
  const yaml = configYaml(pki, port, { admin: { listen: { host: "127.0.0.1", port: adminPort } } });
  const vouch = await startVouch(yaml, { args: ["--workers", "2"] });
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    // One connection each, so that the kernel spreads them over both workers (all 40 on one worker:
    // 2^-39); a supervisor reporting one worker would then show fewer than 40.
    const answers = await Promise.all(Array.from({ length: 40 }, () => postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })));
    assert.ok(answers.every((answer) => certStatuses(answer.body)[0] === "good"));
    const byWorker = new Set(vouch.logs.filter(withMessage("listening")).map((record) => record.pid));
    assert.equal(byWorker.size, 2, "two workers listen");
    const samples = parseSamples(await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text());
    const answered = samples.filter((sample) => sample.name === "vouch_requests_total" && sample.labels.responder === "shared" && sample.labels.status === "successful");
    assert.equal(
      answered.reduce((sum, sample) => sum + sample.value, 0),
      40,
      "the admin listener sums both workers' counters",
    );
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
  } finally {
    await stopAndExpectZero(vouch);
  }
});

test("with two workers billing to one folder, each appends to files of its own, and the summary counts every request once", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-workers-")), "pki") });
  const billing = await mkdtemp(join(tmpdir(), "vouch-workers-billing-"));
  const yaml = configYaml(pki, await freePort(), {}, { billing: { sink: "file", directory: billing } });
  const vouch = await startVouch(yaml, { args: ["--workers", "2"] });
  const since = new Date(Date.now() - 60_000).toISOString();
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    const answers = await Promise.all(Array.from({ length: 40 }, () => postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })));
    assert.ok(answers.every((answer) => certStatuses(answer.body)[0] === "good"));
  } finally {
    await stopAndExpectZero(vouch);
  }
  const files = (await readdir(billing)).sort();
  assert.ok(files.length === 2 && files.every((name) => /^billing-\d{4}-\d{2}-\d{2}\.w\d+\.jsonl$/.test(name)), `one file per worker: ${files.join(", ")}`);
  const summary = await runVouch(["billing", "summary", "--config", vouch.configFile, "--since", since]);
  assert.equal(summary.code, 0, summary.stderr);
  assert.match(summary.stdout, /\b40\b/, summary.stdout);
});
