/**
 * `vouch serve --workers N --worker-threads`: the workers are threads of one process instead of
 * processes. Everything a supervisor does for worker processes holds: both share the port and
 * answer, SIGHUP reaches both, the admin listener adds up both, SIGTERM stops them and the process
 * exits 0; a worker that cannot start stops start-up with the reason.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { createPki, publishCrl, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { parseSamples } from "../support/prometheus.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, pkiSigner, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, stopAndExpectZero } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

/** One responder, "threads", on `port`, with the admin listener on `adminPort`; `issuerFields` replace the issuer's. */
const configYaml = (pki: Pki, port: number, adminPort: number, issuerFields: YamlFields = {}) =>
  vouchConfig({
    admin: { listen: { host: "127.0.0.1", port: adminPort } },
    responders: [testResponder("threads", [pkiIssuer(pki, issuerFields)], { listen: { host: "127.0.0.1", port } })],
  });

test("two worker threads of one process share the port, both answer, both reload, the admin listener adds them up, and SIGTERM stops them", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-threads-")), "pki") });
  const adminPort = await freePort();
  const vouch = await startVouch(configYaml(pki, await freePort(), adminPort), { args: ["--workers", "2", "--worker-threads"] });
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    const listening = await waitForLogs(vouch, withMessage("listening"), 2);
    assert.deepEqual(new Set(listening.map((record) => record.worker)), new Set([1, 2]), "each worker listens");
    assert.ok(listening.every((record) => record.pid === vouch.child.pid), "in the process that was started");
    const { stdout: children } = await promisify(execFile)("ps", ["-o", "pid=", "--ppid", String(vouch.child.pid)]).catch(() => ({ stdout: "" }));
    assert.equal(children.trim(), "", "no worker processes");

    const asked = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.revoked, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(asked.stdout, /: revoked/);
    assert.match(asked.stderr + asked.stdout, /Response verify OK/);

    // One connection each, so that the kernel spreads them over both threads (all 40 on one: 2^-39);
    // each refusal is logged by the worker that answered it.
    const refused = await Promise.all(Array.from({ length: 40 }, () => postOcsp(`${vouch.baseUrl}/`, Buffer.from("not an OCSP request"), { connection: "close" })));
    assert.ok(refused.every((answer) => answer.status === 200 && answer.body.equals(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]))), "malformedRequest");
    const refusals = await waitForLogs(vouch, withMessage("request refused"), 20);
    assert.deepEqual(new Set(refusals.map((record) => record.worker)), new Set([1, 2]), "both threads answered");

    const samples = parseSamples(await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text());
    const requests = samples.filter((sample) => sample.name === "vouch_requests_total" && sample.labels.responder === "threads");
    assert.equal(requests.reduce((sum, sample) => sum + sample.value, 0), 41, "the admin listener sums both threads' counters");
    // Process-wide figures are the process's once, not once per thread.
    const status = await readFile(`/proc/${vouch.child.pid}/status`, "utf8");
    const rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
    const reported = samples.find((sample) => sample.name === "process_resident_memory_bytes")!.value;
    assert.ok(reported > rss * 0.7 && reported < rss * 1.3, `process_resident_memory_bytes ${reported} against VmRSS ${rss}`);
    assert.ok(samples.some((sample) => sample.name === "nodejs_heap_size_used_bytes" && sample.value > 0), "each thread's heap is still reported");
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    assert.equal(ready.status, 200, await ready.text());

    vouch.child.kill("SIGHUP");
    const reloaded = await waitForLogs(vouch, withMessage("reloaded"), 2);
    assert.deepEqual(new Set(reloaded.map((record) => record.worker)), new Set([1, 2]), "both threads reloaded");
  } finally {
    await stopAndExpectZero(vouch);
  }
});

test("worker threads answer from one index table loaded once, and each sees a revocation made while it runs", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-threads-")), "pki") });
  const vouch = await startVouch(configYaml(pki, await freePort(), await freePort()), { args: ["--workers", "2", "--worker-threads"] });
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    const [shared] = vouch.logs.filter(withMessage("revocation tables loaded once for the worker threads"));
    assert.deepEqual(shared?.files, [pki.index]);
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
    const spread = () => Promise.all(Array.from({ length: 20 }, () => postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })));
    assert.ok((await spread()).every((answer) => certStatuses(answer.body)[0] === "good"));
    await revokeCertificate(pki, pki.good, "keyCompromise");
    // Each thread reloads on its own (its changed rows over the shared table): wait until both say so.
    await waitForLogs(vouch, withMessage("index reloaded"), 2, 20_000);
    assert.ok((await spread()).every((answer) => certStatuses(answer.body)[0] === "revoked"), "every thread answers revoked");
    const asked = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(asked.stdout, /: revoked/);
  } finally {
    await stopAndExpectZero(vouch);
  }
});

test("worker threads answer from one copy of a CRL loaded once, and each sees the next CRL", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-threads-")), "pki") });
  await publishCrl(pki);
  const yaml = configYaml(pki, await freePort(), await freePort(), { sources: [{ type: "crl", files: [pki.crl] }] });
  const vouch = await startVouch(yaml, { args: ["--workers", "2", "--worker-threads"] });
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    const [shared] = vouch.logs.filter(withMessage("revocation tables loaded once for the worker threads"));
    assert.deepEqual(shared?.files, [pki.crl]);
    const spread = async (cert: string) => {
      const request = await opensslRequest(["-issuer", pki.ca, "-cert", cert, "-no_nonce"]);
      return (await Promise.all(Array.from({ length: 20 }, () => postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })))).map((answer) => certStatuses(answer.body)[0]);
    };
    assert.deepEqual(new Set(await spread(pki.revoked)), new Set(["revoked"]));
    assert.deepEqual(new Set(await spread(pki.good)), new Set(["good"]));
    await revokeCertificate(pki, pki.good, "superseded");
    await publishCrl(pki);
    await waitForLogs(vouch, withMessage("CRL reloaded"), 2, 20_000);
    assert.deepEqual(new Set(await spread(pki.good)), new Set(["revoked"]), "every thread answers from the new CRL");
    const asked = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(asked.stdout, /: revoked/);
  } finally {
    await stopAndExpectZero(vouch);
  }
});

test("a worker thread that cannot start stops start-up with a message naming the field", async () => {
  const folder = await mkdtemp(join(tmpdir(), "vouch-threads-"));
  const pki = await createPki({ dir: join(folder, "pki") });
  const file = join(folder, "vouch.yaml");
  await writeFile(file, configYaml(pki, await freePort(), await freePort(), { signer: pkiSigner(pki, { key: join(folder, "missing.key") }) }));
  const result = await runVouch(["serve", "--config", file, "--workers", "2", "--worker-threads"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /responders\[0\]\.issuers\[0\]\.signer\.key: .*missing\.key: file not found/);
});

test("PKCS#11 signers need worker processes: --worker-threads refuses them at start and on reload, naming the field", async () => {
  const folder = await mkdtemp(join(tmpdir(), "vouch-threads-"));
  const pki = await createPki({ dir: join(folder, "pki") });
  const pinFile = join(folder, "pin");
  await writeFile(pinFile, "1234\n");
  const tokenSigner = { signer: { certificate: pki.signer, pkcs11: { module: "/usr/lib/softhsm/libsofthsm2.so", token: "ocsp", key: "signer", pin: { file: pinFile } } } };
  const file = join(folder, "vouch.yaml");
  const [port, adminPort] = [await freePort(), await freePort()];
  await writeFile(file, configYaml(pki, port, adminPort, tokenSigner));
  const refused = await runVouch(["serve", "--config", file, "--workers", "2", "--worker-threads"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /responders\[0\]\.issuers\[0\]\.signer\.pkcs11: PKCS#11 signers need worker processes: leave out --worker-threads/);

  const vouch = await startVouch(configYaml(pki, port, adminPort), { args: ["--workers", "2", "--worker-threads"] });
  try {
    await waitForLogs(vouch, withMessage("ready"), 1);
    await writeFile(vouch.configFile, configYaml(pki, port, adminPort, tokenSigner));
    vouch.child.kill("SIGHUP");
    const [line] = await waitForLogs(vouch, (record) => String(record.msg).startsWith("reload refused"), 1);
    assert.equal(line!.field, "responders[0].issuers[0].signer.pkcs11");
    const asked = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(asked.stdout, /: good/, "the running configuration still answers");
  } finally {
    await vouch.stop();
  }
});
