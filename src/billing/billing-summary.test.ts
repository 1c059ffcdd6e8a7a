import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { silentLogger } from "../observability/logger.ts";
import { parseBillingRecordLine } from "./billing-record-json.ts";
import { billingReader, formatSummary, readFileBillingRecords, summarize } from "./billing-summary.ts";
import { formatSummaries } from "./billing-summary-formats.ts";
import type { BillingSummaryRow } from "./billing-summary.ts";
import type { BillingRecord, BillingSink } from "./billing-sink.ts";
import { fileBillingSink } from "./file-billing-sink.ts";
import { postgresBillingSink } from "./postgres-billing-sink.ts";
import { TEST_DATABASE_URL, dropTables, readPostgresRecords, sql } from "./test-support/postgres.ts";

const root = await mkdtemp(join(tmpdir(), "vouch-billing-summary-"));
const tablePrefix = `vbs_p${process.pid}_`;
after(async () => {
  await rm(root, { recursive: true, force: true });
  await dropTables(tablePrefix);
});
const clock = fixedClock("2026-11-05T10:00:00Z");
const since = new Date("2026-11-01T00:00:00Z");

function record(time: string, requestor: string | undefined, outcome: BillingRecord["outcome"], singleRequests: number | undefined, certificates: number | undefined): BillingRecord {
  return {
    time: new Date(time),
    responder: "acme",
    responderUrl: "http://ocsp.example/",
    clientAddress: "192.0.2.1",
    requestor,
    tlsSubject: requestor === undefined ? undefined : "CN=tls client,O=Acme",
    signerSubject: requestor,
    authorizedBy: requestor === undefined ? undefined : outcome === "successful" ? "both" : undefined,
    outcome,
    source: outcome === "successful" ? "local" : undefined,
    singleRequests,
    certificates: certificates === undefined ? undefined : Array.from({ length: certificates }, (_, index) => ({ issuerKeyHash: "aa", issuer: undefined, serial: String(index), status: "good" as const })),
  };
}

const records = [
  record("2026-10-31T23:59:59.999Z", "CN=bob", "successful", 3, undefined), // before `since`: not counted
  record("2026-11-01T00:00:00.000Z", "CN=bob", "successful", 1, undefined),
  record("2026-11-01T08:00:00.000Z", "CN=alice", "successful", 2, 2),
  record("2026-11-02T12:00:00.000Z", "CN=alice", "unauthorized", undefined, undefined),
  record("2026-11-02T13:00:00.000Z", undefined, "successful", 1, 1),
];

const expected: BillingSummaryRow[] = [
  { requestor: "CN=alice", requests: 2, singleRequests: 2, certificates: 2, byOutcome: { successful: 1, unauthorized: 1 } },
  { requestor: "CN=bob", requests: 1, singleRequests: 1, certificates: 0, byOutcome: { successful: 1 } },
  { requestor: undefined, requests: 1, singleRequests: 1, certificates: 1, byOutcome: { successful: 1 } },
];

async function fill(sink: BillingSink): Promise<void> {
  await Promise.all(records.map((item) => sink.write(item)));
  await sink.close();
}

test("summarize counts per requestor since a date from the file sink's daily files", async () => {
  const directory = join(root, "files");
  await fill(fileBillingSink({ directory, clock, logger: silentLogger }));
  assert.deepEqual(await summarize(billingReader({ sink: "file", directory }), since), expected);
});

test("summarize counts per requestor since a date from the PostgreSQL table, grouped in SQL", async () => {
  const table = `${tablePrefix}summary`;
  await fill(await postgresBillingSink({ connectionString: TEST_DATABASE_URL, table, clock, logger: silentLogger }));
  assert.deepEqual(await summarize(billingReader({ sink: "postgres", connectionString: TEST_DATABASE_URL, table }), since), expected);
});

/** A line as the file sink wrote it before tlsSubject, signerSubject and authorizedBy existed. */
const OLD_LINE =
  '{"time":"2026-11-03T09:00:00.000Z","responder":"acme","responderUrl":"http://ocsp.example/","clientAddress":"192.0.2.1",' +
  '"requestor":"CN=bob","outcome":"successful","source":"local","singleRequests":1,"certificates":null}\n';

/** The same record as a BillingRecord. */
const oldRecord: BillingRecord = { ...record("2026-11-03T09:00:00.000Z", "CN=bob", "successful", 1, undefined), tlsSubject: undefined, signerSubject: undefined, authorizedBy: undefined };

/** With the old record, bob has one more request. */
const expectedWithOld: BillingSummaryRow[] = [
  expected[0]!,
  { requestor: "CN=bob", requests: 2, singleRequests: 2, certificates: 0, byOutcome: { successful: 2 } },
  expected[2]!,
];

test("file sink: lines written before the who-asked fields existed still read (as absent) and are summarized with new ones", async () => {
  const directory = join(root, "old-lines");
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, "billing-2026-11-03.jsonl"), OLD_LINE);
  await fill(fileBillingSink({ directory, clock, logger: silentLogger }));
  const read: BillingRecord[] = [];
  for await (const item of readFileBillingRecords(directory, new Date("2026-11-03T00:00:00Z"))) read.push(item);
  assert.deepEqual(read, [oldRecord]);
  assert.equal(parseBillingRecordLine(OLD_LINE.replace('"outcome"', '"authorizedBy":"nobody","outcome"')), undefined, "an authorizedBy outside its vocabulary is not a record");
  assert.deepEqual(await summarize(billingReader({ sink: "file", directory }), since), expectedWithOld);
});

test("PostgreSQL sink: a table of the old schema gets the who-asked columns, keeps its rows, and is summarized with new ones", async () => {
  const table = `${tablePrefix}old_schema`;
  // The schema as Vouch created it before issue 12.
  await sql(`CREATE TABLE "${table}" (id bigserial PRIMARY KEY, time timestamptz NOT NULL, responder text NOT NULL, responder_url text NOT NULL,
    client_address text NOT NULL, requestor text NULL, outcome text NOT NULL, source text NULL, single_requests integer NULL, certificates jsonb NULL)`);
  await sql(`INSERT INTO "${table}" (time, responder, responder_url, client_address, requestor, outcome, source, single_requests) VALUES ($1, 'acme', 'http://ocsp.example/', '192.0.2.1', 'CN=bob', 'successful', 'local', 1)`, [
    oldRecord.time.toISOString(),
  ]);
  await fill(await postgresBillingSink({ connectionString: TEST_DATABASE_URL, table, clock, logger: silentLogger }));
  const stored = await readPostgresRecords(table);
  assert.deepEqual(stored[0], oldRecord, "the old row, with the new columns NULL");
  assert.deepEqual(stored.slice(1).sort((a, b) => a.time.getTime() - b.time.getTime()), records, "new rows with their who-asked fields");
  assert.deepEqual(await summarize(billingReader({ sink: "postgres", connectionString: TEST_DATABASE_URL, table }), since), expectedWithOld);
});

test("until ends the window, exclusive, in both stores", async () => {
  const until = new Date("2026-11-02T12:00:00.000Z");
  const window: BillingSummaryRow[] = [
    { requestor: "CN=alice", requests: 1, singleRequests: 2, certificates: 2, byOutcome: { successful: 1 } },
    { requestor: "CN=bob", requests: 1, singleRequests: 1, certificates: 0, byOutcome: { successful: 1 } },
  ];
  assert.deepEqual(await summarize(billingReader({ sink: "file", directory: join(root, "files") }), since, until), window);
  assert.deepEqual(await summarize(billingReader({ sink: "postgres", connectionString: TEST_DATABASE_URL, table: `${tablePrefix}summary` }), since, until), window);
});

test("the three formats carry the same numbers: an aligned table, RFC 4180 CSV with every status column, JSON", () => {
  const window = { since, until: new Date("2026-12-01T00:00:00Z") };
  const summaries = [{ responder: "acme", sink: "file" as const, rows: [...expected, { requestor: "=HYPERLINK(\"x\"),CN=eve", requests: 1, singleRequests: 0, certificates: 0, byOutcome: { tryLater: 1 } }] }];
  assert.match(formatSummaries("table", window, summaries), /^responder acme \(file\), since 2026-11-01T00:00:00\.000Z, until 2026-12-01T00:00:00\.000Z\nREQUESTOR +REQUESTS/);
  assert.equal(
    formatSummaries("csv", window, summaries),
    [
      "responder,requestor,requests,single_requests,certificates,successful,malformedRequest,internalError,tryLater,sigRequired,unauthorized",
      "acme,CN=alice,2,2,2,1,0,0,0,0,1",
      "acme,CN=bob,1,1,0,1,0,0,0,0,0",
      "acme,,1,1,1,1,0,0,0,0,0",
      'acme,"\'=HYPERLINK(""x""),CN=eve",1,0,0,0,0,0,1,0,0',
      "",
    ].join("\r\n"),
  );
  const json = JSON.parse(formatSummaries("json", window, summaries)) as { since: string; until: string; responders: { requestors: { requestor: string | null }[]; total: { requests: number } }[] };
  assert.equal(json.since, "2026-11-01T00:00:00.000Z");
  assert.equal(json.until, "2026-12-01T00:00:00.000Z");
  assert.deepEqual(json.responders[0]!.requestors[2], { requestor: null, requests: 1, singleRequests: 1, certificates: 1, byOutcome: { successful: 1 } });
  assert.deepEqual(json.responders[0]!.total, { requests: 5, singleRequests: 4, certificates: 3, byOutcome: { successful: 3, unauthorized: 1, tryLater: 1 } });
});

test("formatSummary prints an aligned table with a total line", () => {
  assert.equal(
    formatSummary(expected),
    [
      "REQUESTOR    REQUESTS  SINGLE  CERTS  OUTCOMES",
      "CN=alice            2       2      2  successful=1 unauthorized=1",
      "CN=bob              1       1      0  successful=1",
      "(anonymous)         1       1      1  successful=1",
      "TOTAL               4       4      3  successful=3 unauthorized=1",
      "",
    ].join("\n"),
  );
  assert.equal(formatSummary([]), "REQUESTOR  REQUESTS  SINGLE  CERTS  OUTCOMES\nTOTAL             0       0      0\n");
});

test("billingReader refuses a store without its location, naming the field", () => {
  assert.throws(() => billingReader({ sink: "file" }), (error: unknown) => error instanceof ConfigError && error.field === "directory");
  assert.throws(() => billingReader({ sink: "postgres" }), (error: unknown) => error instanceof ConfigError && error.field === "connectionString");
  assert.throws(() => billingReader({ sink: "postgres", connectionString: TEST_DATABASE_URL, table: "no-dashes" }), (error: unknown) => error instanceof ConfigError && error.field === "table");
});
