/**
 * Reloading the configuration file (SIGHUP, `vouch reload`) while clients keep asking: a valid new
 * configuration takes over with no failed request, in one process and in every worker; an invalid
 * one leaves the running configuration serving and one log line says why.
 */
import assert from "node:assert/strict";
import { access, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicOCSPResponse, OCSPResponse } from "@peculiar/asn1-ocsp";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, pkiSigner, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

let pki: Pki;
let request: Buffer;

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-config-reload-")), "pki") });
  request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
});

/** A responder `name` on `port` whose answers are valid for `validity`, billing to files in `billing` when given. */
const responder = (name: string, port: number, validity: string, billing?: string) =>
  testResponder(name, [pkiIssuer(pki)], {
    listen: { host: "127.0.0.1", port },
    responseValidity: validity,
    ...(billing === undefined ? {} : { billing: { sink: "file", directory: billing } }),
  });
const configYaml = (...responders: YamlFields[]) => vouchConfig({ responders });

/** Successful OCSP answers this file's requests got (each one must be billed when billing is on). */
let answered = 0;

/** postOcsp, counting successful answers. */
async function post(url: string): Promise<{ status: number; body: Buffer }> {
  const response = await postOcsp(url, request);
  if (response.status === 200 && responseStatusName(response.body) === "successful") answered++;
  return response;
}

/** Billing records in a file sink's folder. */
async function billed(directory: string): Promise<number> {
  const files = await readdir(directory);
  const text = (await Promise.all(files.map((file) => readFile(join(directory, file), "utf8")))).join("");
  return text.split("\n").filter((line) => line !== "").length;
}

/** nextUpdate − thisUpdate of the first answer, in seconds. */
function validitySeconds(body: Buffer): number {
  const response = AsnConvert.parse(body, OCSPResponse);
  const basic = AsnConvert.parse(response.responseBytes!.response.buffer, BasicOCSPResponse);
  const single = basic.tbsResponseData.responses[0]!;
  return (single.nextUpdate!.getTime() - single.thisUpdate.getTime()) / 1000;
}

/** `loops` clients asking back to back until `until` settles; every validity seen, in order, and every failure. */
async function underLoad(url: string, until: Promise<unknown>, loops = 2): Promise<{ validities: number[]; failures: string[] }> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => {});
  const validities: number[] = [];
  const failures: string[] = [];
  const loop = async () => {
    const deadline = Date.now() + 60_000;
    while (!done && Date.now() < deadline) {
      try {
        const response = await post(url);
        const status = response.status === 200 ? responseStatusName(response.body) : `HTTP ${response.status}`;
        if (status === "successful") validities.push(validitySeconds(response.body));
        else failures.push(status);
      } catch (error) {
        failures.push(String((error as Error).cause ?? error));
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
  return { validities, failures };
}

/** Resolves once `url` answers with this validity; rejects after 30 s. */
async function answersWithValidity(url: string, seconds: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await post(url);
    if (response.status === 200 && responseStatusName(response.body) === "successful" && validitySeconds(response.body) === seconds) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never answered with a validity of ${seconds} s`);
}

async function stop(vouch: VouchProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => vouch.child.once("exit", resolve));
  vouch.child.kill("SIGTERM");
  return exited;
}

test("vouch reload swaps in a new responseValidity and billing folder under load, with no failed or unbilled request", async () => {
  const folder = await mkdtemp(join(tmpdir(), "vouch-config-reload-"));
  const pidFile = join(folder, "vouch.pid");
  const [billingBefore, billingAfter] = [join(folder, "billing-before"), join(folder, "billing-after")];
  const vouch = await startVouch(configYaml(responder("one", 0, "PT1H", billingBefore)), { args: ["--pid-file", pidFile] });
  answered = 0;
  try {
    const url = `${vouch.baseUrl}/`;
    assert.equal(validitySeconds((await post(url)).body), 3600);
    const change = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Port 0 again: the running listener keeps its port across the reload.
      await writeFile(vouch.configFile, configYaml(responder("one", 0, "PT2H", billingAfter)));
      const reload = await runVouch(["reload", "--pid-file", pidFile]);
      assert.equal(reload.code, 0, reload.stderr);
      await answersWithValidity(url, 7200);
    })();
    const seen = await underLoad(url, change);
    await change;
    assert.deepEqual(seen.failures, [], `${seen.failures.length} of ${seen.failures.length + seen.validities.length} requests failed during the reload`);
    assert.equal(seen.validities[0], 3600);
    assert.equal(seen.validities.at(-1), 7200);
    await waitForLogs(vouch, withMessage("reloaded"));
  } finally {
    assert.equal(await stop(vouch), 0);
  }
  const [before, after] = [await billed(billingBefore), await billed(billingAfter)];
  assert.ok(before > 0 && after > 0, `records in both sinks (${before}, ${after})`);
  assert.equal(before + after, answered, "every answered request was billed exactly once, by the old sink or the new one");
  await assert.rejects(access(pidFile), "the pid file is removed at a clean exit");
  const stale = await runVouch(["reload", "--pid-file", pidFile]);
  assert.equal(stale.code, 2);
  assert.match(stale.stderr, /--pid-file: cannot read/);
});

test("an invalid new configuration keeps the running one serving, and one log line names the file, field and problem", async () => {
  const vouch = await startVouch(configYaml(responder("one", 0, "PT1H")));
  try {
    const url = `${vouch.baseUrl}/`;
    // Not valid against the schema: refused before anything is built.
    await writeFile(vouch.configFile, configYaml(testResponder("one", [pkiIssuer(pki)], { responseValidty: "PT2H" })));
    vouch.child.kill("SIGHUP");
    const [schema] = await waitForLogs(vouch, (record) => String(record.msg).startsWith("reload refused"));
    assert.equal(schema!.file, vouch.configFile);
    assert.equal(schema!.field, "responders[0]");
    assert.match(String(schema!.msg), /vouch\.yaml: responders\[0\]: unknown field "responseValidty"/);
    assert.equal(validitySeconds((await postOcsp(url, request)).body), 3600, "the old configuration still serves");

    // Valid, but its signer key file is missing: refused when building, before the swap.
    await writeFile(vouch.configFile, configYaml(testResponder("one", [pkiIssuer(pki, { signer: pkiSigner(pki, { key: join(pki.dir, "missing.key") }) })], { responseValidity: "PT2H" })));
    vouch.child.kill("SIGHUP");
    const refused = await waitForLogs(vouch, (record) => String(record.msg).startsWith("reload refused"), 2);
    assert.equal(refused[1]!.field, "responders[0].issuers[0].signer.key");
    assert.match(String(refused[1]!.msg), /missing\.key/);
    assert.equal(validitySeconds((await postOcsp(url, request)).body), 3600, "the old configuration still serves");
    assert.ok(!vouch.logs.some(withMessage("reloaded")));
  } finally {
    assert.equal(await stop(vouch), 0);
  }
});

test("with two workers, SIGHUP reloads every worker under load: new validity, a new listener, no failed request", async () => {
  const [port, newPort] = [await freePort(), await freePort()];
  const vouch = await startVouch(configYaml(responder("one", port, "PT1H")), { args: ["--workers", "2"] });
  try {
    await waitForLogs(vouch, withMessage("ready"));
    const url = `${vouch.baseUrl}/`;
    const change = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writeFile(vouch.configFile, configYaml(responder("one", port, "PT2H"), responder("two", newPort, "PT3H")));
      vouch.child.kill("SIGHUP");
      await waitForLogs(vouch, withMessage("workers reloaded"));
    })();
    const seen = await underLoad(url, change, 3);
    await change;
    assert.deepEqual(seen.failures, [], `${seen.failures.length} requests failed during the reload`);
    assert.equal(seen.validities[0], 3600);
    assert.equal(new Set(vouch.logs.filter(withMessage("reloaded")).map((record) => record.pid)).size, 2, "both workers reloaded");
    // Every connection now lands on a reloaded worker, whichever the kernel picks.
    const after = await Promise.all(Array.from({ length: 20 }, () => postOcsp(url, request, { connection: "close" })));
    assert.deepEqual(new Set(after.map((response) => validitySeconds(response.body))), new Set([7200]));
    const added = await Promise.all(Array.from({ length: 10 }, () => postOcsp(`http://127.0.0.1:${newPort}/`, request, { connection: "close" })));
    assert.deepEqual(new Set(added.map((response) => validitySeconds(response.body))), new Set([10800]), "the new responder answers on its new port");
  } finally {
    assert.equal(await stop(vouch), 0);
  }
});

test("a reload applies log.level to every logger already running: debug lines start, then stop", async () => {
  const folder = await mkdtemp(join(tmpdir(), "vouch-config-reload-level-"));
  const withLevel = (level: string, validity: string) => vouchConfig({ log: { level }, responders: [responder("one", 0, validity, folder)] });
  const vouch = await startVouch(withLevel("info", "PT1H"));
  const debugLines = () => vouch.logs.filter(withMessage("billing batch durable")).length;
  try {
    const url = `${vouch.baseUrl}/`;
    for (let i = 0; i < 3; i++) await post(url);
    assert.equal(debugLines(), 0, "info: the billing sink's debug lines are not written");

    await writeFile(vouch.configFile, withLevel("debug", "PT2H"));
    vouch.child.kill("SIGHUP");
    await answersWithValidity(url, 7200);
    await post(url);
    await waitForLogs(vouch, withMessage("billing batch durable"));

    await writeFile(vouch.configFile, withLevel("warn", "PT3H"));
    vouch.child.kill("SIGHUP");
    await answersWithValidity(url, 10800);
    const before = debugLines();
    for (let i = 0; i < 5; i++) await post(url);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(debugLines(), before, "warn: no more debug lines");
    assert.equal(vouch.logs.filter(withMessage("reloaded")).length, 1, "the reload to warn logs its info line no more");
  } finally {
    assert.equal(await stop(vouch), 0);
  }
});
