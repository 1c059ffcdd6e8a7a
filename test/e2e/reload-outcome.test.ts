/**
 * `vouch reload` waits for the outcome and says it with its exit code, in one process, with worker
 * processes and with worker threads: 0 for a configuration every worker applied, 1 with the reason
 * for one that is refused (by the supervisor's check, or by every worker when it builds it). The
 * server logs one summary line per reload and counts it in vouch_reloads_total; a killed worker
 * process is counted in vouch_worker_restarts_total.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { parseSamples, sampleValue } from "../support/prometheus.ts";
import { pkiIssuer, pkiSigner, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

let pki: Pki;
let folder: string;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-reload-outcome-"));
  pki = await createPki({ dir: join(folder, "pki") });
});

/** One responder on `port` with `fields` (its responseValidity), its signer's key `key`, and an admin listener on `admin`. */
const configYaml = (port: number, admin: number, fields: YamlFields, key = pki.signerKey) =>
  vouchConfig({
    admin: { listen: { host: "127.0.0.1", port: admin } },
    responders: [testResponder("one", [pkiIssuer(pki, { signer: pkiSigner(pki, { key }) })], { listen: { host: "127.0.0.1", port }, ...fields })],
  });

/** The summary lines: the process's own reload lines (one process), or the supervisor's. */
const summaries = (vouch: VouchProcess, supervised: boolean) =>
  vouch.logs.filter((record) => (supervised ? record.supervisor !== undefined && record.result !== undefined : /^(reloaded|reload refused)/.test(String(record.msg))));

async function metrics(admin: number): Promise<ReturnType<typeof parseSamples>> {
  return parseSamples(await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text());
}

const modes: [name: string, args: string[]][] = [
  ["one process", ["--workers", "1"]],
  ["two worker processes", ["--workers", "2"]],
  ["two worker threads", ["--workers", "2", "--worker-threads"]],
];

for (const [mode, args] of modes) {
  describe(`vouch reload with ${mode}`, () => {
    test("exit 0 when applied; exit 1 with the reason when refused by the schema or when building; one summary line and one count per reload", async () => {
      const supervised = args[1] !== "1";
      const [port, admin] = [await freePort(), await freePort()];
      const pidFile = join(folder, `${mode.replaceAll(" ", "-")}.pid`);
      const vouch = await startVouch(configYaml(port, admin, { responseValidity: "PT1H" }), { args: ["--pid-file", pidFile, ...args] });
      try {
        await waitForLogs(vouch, withMessage("ready"));
        await writeFile(vouch.configFile, configYaml(port, admin, { responseValidity: "PT2H" }));
        const applied = await runVouch(["reload", "--pid-file", pidFile], { timeoutMs: 60_000 });
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, supervised ? /^vouch: process \d+ reloaded its configuration \(2 workers\)\n$/ : /^vouch: process \d+ reloaded its configuration\n$/);

        // Refused before any worker sees it: the schema (a misspelled field).
        await writeFile(vouch.configFile, configYaml(port, admin, { responseValidty: "PT3H" }));
        const schema = await runVouch(["reload", "--pid-file", pidFile], { timeoutMs: 60_000 });
        assert.equal(schema.code, 1, schema.stdout);
        assert.equal(schema.stderr, `vouch: reload refused, the running configuration stays: ${vouch.configFile}: responders[0]: unknown field "responseValidty" (did you mean "responseValidity"?)\n`);

        // Valid, but no worker can build it: the key file is missing.
        await writeFile(vouch.configFile, configYaml(port, admin, { responseValidity: "PT3H" }, join(pki.dir, "missing.key")));
        const build = await runVouch(["reload", "--pid-file", pidFile], { timeoutMs: 60_000 });
        assert.equal(build.code, 1, build.stdout);
        assert.match(build.stderr, /^vouch: reload refused, the running configuration stays: .*vouch\.yaml: responders\[0\]\.issuers\[0\]\.signer\.key: .*missing\.key: file not found\n$/);

        const lines = await waitForLogs(vouch, (record) => summaries(vouch, supervised).includes(record), 3);
        assert.deepEqual(
          lines.map((record) => record.result ?? (record.msg === "reloaded" ? "applied" : "refused")),
          ["applied", "refused", "refused"],
          "one summary line per reload",
        );
        if (supervised) assert.deepEqual([lines[2]!.applied, lines[2]!.refused, lines[2]!.silent], [0, 2, 0], "both workers refused the unbuildable configuration");
        const samples = await metrics(admin);
        assert.equal(sampleValue(samples, "vouch_reloads_total", { result: "applied" }), 1);
        assert.equal(sampleValue(samples, "vouch_reloads_total", { result: "refused" }), 2);
        assert.equal(sampleValue(samples, "vouch_reloads_total", { result: "partial" }), 0);
      } finally {
        await stopAndExpectZero(vouch);
      }
    });
  });
}

test("a killed worker process is counted in vouch_worker_restarts_total once it is replaced", async () => {
  const [port, admin] = [await freePort(), await freePort()];
  const vouch = await startVouch(configYaml(port, admin, { responseValidity: "PT1H" }), { args: ["--workers", "2"] });
  try {
    await waitForLogs(vouch, withMessage("ready"));
    assert.equal(sampleValue(await metrics(admin), "vouch_worker_restarts_total"), 0);
    const [victim] = vouch.logs.filter(withMessage("worker started")).map((record) => record.pid as number);
    process.kill(victim!, "SIGKILL");
    await waitForLogs(vouch, withMessage("worker started"), 3);
    assert.equal(sampleValue(await metrics(admin), "vouch_worker_restarts_total"), 1);
  } finally {
    await stopAndExpectZero(vouch);
  }
});
