import assert from "node:assert/strict";
import { after, test } from "node:test";
import pg from "pg";
import { fixedClock, systemClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { recordingLogger, silentLogger } from "../observability/logger.ts";
import { billingSinkContract, contractRecord, contractRecordId } from "./billing-sink.contract.ts";
import { postgresBillingSink } from "./postgres-billing-sink.ts";
import { TEST_DATABASE_URL, dropTables, readPostgresRecords, sql } from "./test-support/postgres.ts";
import { tcpProxy } from "./test-support/tcp-proxy.ts";

const clock = fixedClock("2026-11-05T10:00:00Z");
const prefix = `vbt_p${process.pid}_`;
const tableFor = (place: string) => `vbt_${place}`;
after(() => dropTables(prefix));

/** The test database reached through a proxy on another port. */
const viaPort = (port: number) => TEST_DATABASE_URL.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`);

billingSinkContract(
  "postgresBillingSink",
  async ({ place, failing, onFlush, maxDelayMs }) => {
    const table = tableFor(place);
    if (!failing) return postgresBillingSink({ connectionString: TEST_DATABASE_URL, table, clock, logger: silentLogger, onFlush, maxDelayMs });
    const proxy = await tcpProxy(5432);
    const sink = await postgresBillingSink({ connectionString: viaPort(proxy.port), table, clock, logger: silentLogger, onFlush, maxDelayMs });
    // The database goes away after start: nothing listens on the port any more.
    await proxy.stop();
    return sink;
  },
  (place) => readPostgresRecords(tableFor(place)),
);

test("the schema is created with its columns and indexes, and two sinks starting together both succeed", async () => {
  const table = `${prefix}schema`;
  const sinks = await Promise.all([1, 2].map(() => postgresBillingSink({ connectionString: TEST_DATABASE_URL, table, clock, logger: silentLogger })));
  await Promise.all(sinks.map((sink) => sink.close()));
  const columns = await sql<{ column_name: string; data_type: string; is_nullable: string }>(
    "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
    [table],
  );
  assert.deepEqual(
    columns.map((column) => `${column.column_name} ${column.data_type}${column.is_nullable === "YES" ? " null" : ""}`),
    [
      "id bigint",
      "time timestamp with time zone",
      "responder text",
      "responder_url text",
      "client_address text",
      "requestor text null",
      "tls_subject text null",
      "signer_subject text null",
      "authorized_by text null",
      "outcome text",
      "source text null",
      "single_requests integer null",
      "certificates jsonb null",
    ],
  );
  const indexes = await sql<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname", [table]);
  assert.ok(indexes.some((index) => /\(requestor, "?time"?\)$/.test(index.indexdef)), JSON.stringify(indexes));
  assert.ok(indexes.some((index) => /\("?time"?\)$/.test(index.indexdef)), JSON.stringify(indexes));
});

test("a lost connection fails the batches it hits, and the next batch commits on a fresh connection", async () => {
  const table = `${prefix}reconnect`;
  const proxy = await tcpProxy(5432);
  const logger = recordingLogger();
  const sink = await postgresBillingSink({ connectionString: viaPort(proxy.port), table, clock, logger });
  await sink.write(contractRecord(0));
  await proxy.stop();
  await assert.rejects(sink.write(contractRecord(1)), Error);
  await proxy.start();
  await sink.write(contractRecord(2));
  await sink.close();
  await proxy.stop();
  assert.deepEqual((await readPostgresRecords(table)).map(contractRecordId), [0, 2]);
  assert.ok(logger.records.some((record) => record.level === "error" && record.message.includes("committed")));
});

test("a blocked INSERT is cut off by the statement timeout and rejects its batch", async () => {
  const table = `${prefix}timeout`;
  const sink = await postgresBillingSink({ connectionString: TEST_DATABASE_URL, table, clock, logger: silentLogger, statementTimeoutMs: 300 });
  const locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
    const started = systemClock.now();
    await assert.rejects(sink.write(contractRecord(0)), /statement timeout|canceling statement|timeout/i);
    assert.ok(systemClock.now() - started < 2_000, "bounded by the statement timeout");
  } finally {
    await locker.query("ROLLBACK");
    await locker.end();
  }
  await sink.write(contractRecord(1));
  await sink.close();
  assert.deepEqual((await readPostgresRecords(table)).map(contractRecordId), [1]);
});

test("postgresBillingSink rejects promptly when the database cannot be reached at start", async () => {
  const started = systemClock.now();
  await assert.rejects(
    postgresBillingSink({ connectionString: "postgres://postgres@127.0.0.1:1/test", table: `${prefix}unreachable`, clock, logger: silentLogger }),
    (error: unknown) => error instanceof Error && /ECONNREFUSED/.test(`${error.message} ${String((error as { code?: unknown }).code)}`),
  );
  assert.ok(systemClock.now() - started < 3_000);
});

test("a record PostgreSQL cannot hold (a NUL character) is refused alone; its batch commits", async () => {
  const table = `${prefix}nul`;
  const sink = await postgresBillingSink({ connectionString: TEST_DATABASE_URL, table, clock, logger: silentLogger });
  const results = await Promise.allSettled([sink.write(contractRecord(0)), sink.write({ ...contractRecord(1), requestor: "CN=evil\u0000" }), sink.write(contractRecord(2))]);
  await sink.close();
  assert.deepEqual(
    results.map((result) => result.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
  assert.deepEqual((await readPostgresRecords(table)).map(contractRecordId), [0, 2]);
});

test("a subject holding a lone surrogate is stored with U+FFFD in its place, and its batch commits", async () => {
  const table = `${prefix}surrogate`;
  const sink = await postgresBillingSink({ connectionString: TEST_DATABASE_URL, table, clock, logger: silentLogger });
  await Promise.all([sink.write(contractRecord(0)), sink.write({ ...contractRecord(1), requestor: "CN=half \ud800 pair" }), sink.write(contractRecord(2))]);
  await sink.close();
  const stored = await readPostgresRecords(table);
  assert.deepEqual(stored.map(contractRecordId), [0, 1, 2]);
  assert.equal(stored[1]!.requestor, "CN=half \ufffd pair");
});

test("postgresBillingSink refuses unusable options with ConfigError naming the field", async () => {
  const base = { connectionString: TEST_DATABASE_URL, clock, logger: silentLogger };
  const fieldOf = async (options: Parameters<typeof postgresBillingSink>[0]) => {
    try {
      const sink = await postgresBillingSink(options);
      await sink.close();
    } catch (error) {
      return error instanceof ConfigError ? error.field : `not a ConfigError: ${String(error)}`;
    }
    return "no error";
  };
  assert.equal(await fieldOf({ ...base, connectionString: "" }), "connectionString");
  assert.equal(await fieldOf({ ...base, table: "Billing-Table" }), "table");
  assert.equal(await fieldOf({ ...base, table: 'x"; DROP TABLE y; --' }), "table");
  assert.equal(await fieldOf({ ...base, table: "t".repeat(45) }), "table");
  assert.equal(await fieldOf({ ...base, poolSize: 0 }), "poolSize");
  assert.equal(await fieldOf({ ...base, statementTimeoutMs: 0 }), "statementTimeoutMs");
  assert.equal(await fieldOf({ ...base, maxDelayMs: -1 }), "maxDelayMs");
});
