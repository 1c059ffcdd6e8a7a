/**
 * SPEC step 9 from the outside: after N requests under concurrent load, exactly N billing records
 * with the right fields, in the file sink and in the real PostgreSQL; a SIGKILL in the middle of a
 * load run loses no record of a response a client received; a sink that fails turns answers into
 * tryLater; `vouch billing summary` counts per requestor.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { issueExtra } from "../support/certificates.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { withSerial } from "../support/reference-requests.ts";
import { pkiIssuer, pkiTrust, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch } from "../support/vouch-process.ts";

const DATABASE = "postgres://postgres@127.0.0.1:5432/test";
let pki: Pki;
let base: string;
let template: Buffer;
let requestor: { certificate: string; key: string };
const table = `vouch_billing_e2e_${randomBytes(4).toString("hex")}`;
const crashTable = `${table}_crash`;
let db: pg.Client;

before(async () => {
  base = await mkdtemp(join(tmpdir(), "vouch-billing-"));
  pki = await createPki({ dir: join(base, "pki") });
  requestor = await issueExtra(pki, "requestor", { commonName: "Billing Requestor", extensions: "keyUsage = critical,digitalSignature\n" });
  template = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
  db = new pg.Client({ connectionString: DATABASE });
  await db.connect();
});

after(async () => {
  await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
  await db.query(`DROP TABLE IF EXISTS ${crashTable}`).catch(() => {});
  await db.end();
});

/** One responder billing to `billing`, with `fields` of its own, under a trust block. */
function config(billing: YamlFields, fields: YamlFields = {}): string {
  return vouchConfig({
    trust: pkiTrust(pki),
    responders: [testResponder("billed", [pkiIssuer(pki)], { billing, ...fields })],
  });
}

/** Sends `count` requests with distinct serials, `parallel` at a time; returns the serials answered. */
async function load(url: string, count: number, parallel: number, stopOnError = false, answered: string[] = []): Promise<string[]> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const serial = (0x100000 + next++).toString(16).toUpperCase();
      try {
        const response = await postOcsp(url, withSerial(template, serial));
        if (response.status === 200 && responseStatusName(response.body) === "successful") answered.push(serial);
      } catch (error) {
        if (stopOnError) return;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return answered;
}

async function fileRecords(directory: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for (const name of (await readdir(directory)).filter((file) => file.endsWith(".jsonl"))) {
    for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
      if (line.trim() !== "") records.push(JSON.parse(line) as Record<string, unknown>);
    }
  }
  return records;
}

function billedSerials(records: Record<string, unknown>[]): Set<string> {
  const serials = new Set<string>();
  for (const record of records) {
    for (const certificate of (record.certificates as { serial: string }[] | null) ?? []) serials.add(certificate.serial.toUpperCase().replace(/^0+/, ""));
  }
  return serials;
}

describe("billing (SPEC step 9)", () => {
  test("file sink: N concurrent requests leave exactly N records with the right fields", async () => {
    const directory = join(base, "billing-file");
    // A present signature is checked (and names the requestor) only where configured.
    const vouch = await startVouch(config({ sink: "file", directory, perCert: true, countUnknown: true }, { requestSignature: { required: false } }));
    try {
      const answered = await load(`${vouch.baseUrl}/`, 300, 16);
      assert.equal(answered.length, 300);
      const signed = await postOcsp(`${vouch.baseUrl}/`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-signer", requestor.certificate, "-signkey", requestor.key]));
      assert.deepEqual(certStatuses(signed.body), ["good"]);
      const records = await fileRecords(directory);
      assert.equal(records.length, 301);
      const unsigned = records.find((record) => record.requestor === undefined || record.requestor === null)!;
      assert.equal(unsigned.responder, "billed");
      assert.equal(unsigned.outcome, "successful");
      assert.equal(unsigned.source, "local");
      assert.equal(unsigned.clientAddress, "127.0.0.1");
      assert.equal(unsigned.singleRequests, 1);
      assert.ok(!Number.isNaN(Date.parse(unsigned.time as string)));
      assert.equal(billedSerials(records).size, 301, "every serial billed: 300 from the load, and good.pem's");
      assert.ok(records.some((record) => record.requestor === "CN=Billing Requestor,O=Vouch Demo,C=SE"), "the signer's subject is the requestor");
    } finally {
      await vouch.stop();
    }
  });

  test("PostgreSQL sink: N concurrent requests leave exactly N rows", async () => {
    const vouch = await startVouch(config({ sink: "postgres", connectionString: DATABASE, table, perCert: true, countUnknown: true }));
    try {
      const answered = await load(`${vouch.baseUrl}/`, 300, 16);
      assert.equal(answered.length, 300);
      const { rows } = await db.query(`SELECT count(*)::int AS n, count(DISTINCT certificates->0->>'serial')::int AS serials, min(outcome) AS outcome FROM ${table}`);
      assert.deepEqual(rows[0], { n: 300, serials: 300, outcome: "successful" });
    } finally {
      await vouch.stop();
    }
  });

  test("unknown answers are not billed unless countUnknown", async () => {
    const directory = join(base, "billing-unknown");
    const vouch = await startVouch(config({ sink: "file", directory, perCert: true }));
    try {
      await load(`${vouch.baseUrl}/`, 5, 1);
      const records = await fileRecords(directory);
      assert.equal(records.length, 5, "every request has its record");
      assert.ok(records.every((record) => record.singleRequests === 0), "never-issued serials are unknown, so they count 0");
    } finally {
      await vouch.stop();
    }
  });

  for (const sink of ["file", "postgres"] as const) {
    test(`${sink} sink: SIGKILL in the middle of a load run loses no record of an answered request`, async () => {
      const directory = join(base, `billing-crash-${sink}`);
      const billing = sink === "file" ? { sink: "file", directory, perCert: true, countUnknown: true } : { sink: "postgres", connectionString: DATABASE, table: crashTable, perCert: true, countUnknown: true };
      const vouch = await startVouch(config(billing));
      const progress: string[] = [];
      const running = load(`${vouch.baseUrl}/`, 100_000, 16, true, progress);
      // Killed mid-run: once a good number of answers are out (however busy the machine is).
      for (let waited = 0; progress.length < 200 && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      vouch.child.kill("SIGKILL");
      const answered = await running;
      assert.ok(answered.length > 50, `the load ran (${answered.length} answers)`);
      const billed =
        sink === "file"
          ? billedSerials(await fileRecords(directory))
          : new Set((await db.query(`SELECT certificates->0->>'serial' AS serial FROM ${crashTable}`)).rows.map((row: { serial: string }) => row.serial.toUpperCase().replace(/^0+/, "")));
      const missing = answered.filter((serial) => !billed.has(serial));
      assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered requests have no billing record`);
    });
  }

  test("a sink that fails turns answers into tryLater, and nothing unbilled is sent", async () => {
    const failing = `${table}_failing`;
    const vouch = await startVouch(config({ sink: "postgres", connectionString: DATABASE, table: failing }));
    try {
      assert.equal(responseStatusName((await postOcsp(`${vouch.baseUrl}/`, template)).body), "successful");
      await db.query(`DROP TABLE ${failing}`);
      assert.equal(responseStatusName((await postOcsp(`${vouch.baseUrl}/`, template)).body), "tryLater");
    } finally {
      await vouch.stop();
      await db.query(`DROP TABLE IF EXISTS ${failing}`);
    }
  });

  test("vouch billing summary prints per-requestor counts", async () => {
    const directory = join(base, "billing-summary");
    const vouch = await startVouch(config({ sink: "file", directory }, { requestSignature: { required: false } }));
    let configFile: string;
    try {
      await load(`${vouch.baseUrl}/`, 3, 1);
      await postOcsp(`${vouch.baseUrl}/`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-signer", requestor.certificate, "-signkey", requestor.key]));
      configFile = vouch.configFile;
    } finally {
      await vouch.stop();
    }
    const summary = await runVouch(["billing", "summary", "--config", configFile, "--since", "2000-01-01"]);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /CN=Billing Requestor,O=Vouch Demo,C=SE\s+1\b/);
    assert.match(summary.stdout, /\(anonymous\)\s+3\b|-\s+3\b/);
  });
});
