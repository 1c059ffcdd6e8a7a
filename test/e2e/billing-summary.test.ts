/**
 * `vouch billing summary` as an operator invoices with it: records billed by a real `vouch serve`
 * (file sink) and older records in the same folder, counted over a time window (since inclusive,
 * until exclusive) in the three formats; and its output piped into `head` ends quietly.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, test } from "node:test";
import { promisify } from "node:util";
import { billingRecordLine } from "../../src/billing/billing-record-json.ts";
import type { BillingRecord } from "../../src/billing/billing-sink.ts";
import { certificateSerial, createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch } from "../support/vouch-process.ts";

const run = promisify(execFile);
const MAIN = resolve(import.meta.dirname, "../../src/main.ts");
let pki: Pki;
let folder: string;
let billing: string;
let configFile: string;

/** A record of November 2026 as the file sink writes it. */
const november = (time: string, requestor: string | undefined, outcome: BillingRecord["outcome"] = "successful"): BillingRecord => ({
  time: new Date(time),
  responder: "billed",
  responderUrl: "http://127.0.0.1/",
  clientAddress: "192.0.2.1",
  requestor,
  tlsSubject: undefined,
  signerSubject: requestor,
  authorizedBy: undefined,
  outcome,
  source: outcome === "successful" ? "local" : undefined,
  singleRequests: 1,
  certificates: undefined,
});

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-billing-summary-"));
  pki = await createPki({ dir: join(folder, "pki") });
  billing = join(folder, "billing");
  await mkdir(billing);
  const records = [
    november("2026-10-31T23:59:59.999Z", "CN=early"), // before the window
    november("2026-11-01T00:00:00.000Z", "CN=Bank A,O=Bank A,C=SE"), // its first instant: counted
    november("2026-11-15T12:00:00.000Z", "CN=Bank A,O=Bank A,C=SE", "unauthorized"),
    november("2026-11-30T23:59:59.999Z", undefined),
    november("2026-12-01T00:00:00.000Z", "CN=late"), // the window's end is exclusive
  ];
  for (const record of records) await writeFile(join(billing, `billing-${record.time.toISOString().slice(0, 10)}.jsonl`), billingRecordLine(record), { flag: "a" });
  configFile = join(folder, "vouch.yaml");
  await writeFile(configFile, config(billing));
});

/** One responder `billed` whose file billing sink writes into `directory`. */
const config = (directory: string) => vouchConfig({ responders: [testResponder("billed", [pkiIssuer(pki)], { billing: { sink: "file", directory, perCert: true } })] });

const summary = (...args: string[]) => runVouch(["billing", "summary", "--config", configFile, ...args], { timeoutMs: 30_000 });

test("November, three formats: the window's records only, the same numbers in each", async () => {
  const window = ["--since", "2026-11-01", "--until", "2026-12-01"];
  const table = await summary(...window);
  assert.equal(table.code, 0, table.stderr);
  assert.equal(
    table.stdout,
    [
      "responder billed (file), since 2026-11-01T00:00:00.000Z, until 2026-12-01T00:00:00.000Z",
      "REQUESTOR                REQUESTS  SINGLE  CERTS  OUTCOMES",
      "CN=Bank A,O=Bank A,C=SE         2       2      0  successful=1 unauthorized=1",
      "(anonymous)                     1       1      0  successful=1",
      "TOTAL                           3       3      0  successful=2 unauthorized=1",
      "",
    ].join("\n"),
  );
  const csv = await summary(...window, "--format", "csv");
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(
    csv.stdout,
    [
      "responder,requestor,requests,single_requests,certificates,successful,malformedRequest,internalError,tryLater,sigRequired,unauthorized",
      'billed,"CN=Bank A,O=Bank A,C=SE",2,2,0,1,0,0,0,0,1',
      "billed,,1,1,0,1,0,0,0,0,0",
      "",
    ].join("\r\n"),
  );
  const json = await summary(...window, "--format", "json");
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    since: "2026-11-01T00:00:00.000Z",
    until: "2026-12-01T00:00:00.000Z",
    responders: [
      {
        responder: "billed",
        sink: "file",
        requestors: [
          { requestor: "CN=Bank A,O=Bank A,C=SE", requests: 2, singleRequests: 2, certificates: 0, byOutcome: { successful: 1, unauthorized: 1 } },
          { requestor: null, requests: 1, singleRequests: 1, certificates: 0, byOutcome: { successful: 1 } },
        ],
        total: { requests: 3, singleRequests: 3, certificates: 0, byOutcome: { successful: 2, unauthorized: 1 } },
      },
    ],
  });
});

test("requests billed by a running server are counted from today, their serials written as openssl prints them", async () => {
  const vouch = await startVouch(await readFile(configFile, "utf8"));
  try {
    for (const cert of [pki.good, pki.revoked]) assert.match((await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", cert, "-noverify"])).stdout, /: (good|revoked)/);
  } finally {
    await vouch.stop();
  }
  const today = new Date().toISOString().slice(0, 10);
  const json = JSON.parse((await summary("--since", today, "--format", "json")).stdout) as { until: null; responders: { total: { requests: number } }[] };
  assert.equal(json.until, null);
  assert.equal(json.responders[0]!.total.requests, 2);
  const lines = (await readFile(join(billing, `billing-${today}.jsonl`), "utf8")).trim().split("\n");
  const serials = lines.map((line) => (JSON.parse(line) as { certificates: { serial: string }[] }).certificates[0]!.serial);
  assert.deepEqual(serials, [await certificateSerial(pki.good), await certificateSerial(pki.revoked)]);
});

test("bad windows and formats: one line, exit 2", async () => {
  for (const [args, expected] of [
    [["--since", "2026-11-01T12:00"], /^vouch: --since: "2026-11-01T12:00" is not an ISO 8601 date or time with its zone/],
    [["--since", "2026-11-01", "--until", "2026-11-01"], /^vouch: --until: 2026-11-01T00:00:00\.000Z is not after --since/],
    [["--since", "2026-11-01", "--format", "xml"], /^vouch: --format: "xml" is not one of table, csv, json\n$/],
  ] as const) {
    const result = await summary(...args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}`);
    assert.match(result.stderr, expected);
  }
});

test("piped into head, a long summary ends quietly: no EPIPE stack trace", async () => {
  // 3,000 requestors make a table of ~200 KB, more than a pipe holds: the writes after head exits fail.
  const many = join(folder, "many");
  await mkdir(many);
  await writeFile(join(many, "billing-2026-11-02.jsonl"), Array.from({ length: 3000 }, (_, i) => billingRecordLine(november("2026-11-02T00:00:00Z", `CN=requestor ${i},O=Bank ${i},C=SE`))).join(""));
  const manyConfig = join(folder, "many.yaml");
  await writeFile(manyConfig, config(many));
  const { stdout, stderr } = await run("bash", ["-c", `set -o pipefail; "${process.execPath}" "${MAIN}" billing summary --config "${manyConfig}" --since 2026-11-01 | head -n 2; echo "vouch exit \${PIPESTATUS[0]}" >&2`]);
  assert.equal(stdout.split("\n").length, 3);
  assert.match(stdout, /^responder billed \(file\)/);
  assert.equal(stderr, "vouch exit 0\n", "nothing but the exit code on stderr");
});

