import pg from "pg";
import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { checkedWrite } from "./billing-record-check.ts";
import type { BillingRecord, BillingSink } from "./billing-sink.ts";
import { groupCommit, validateBatching } from "./group-commit.ts";
import { DEFAULT_BILLING_TABLE, billingInsertStatement, billingSchemaStatements, checkBillingTable } from "./postgres-billing-schema.ts";

/** Where and how the PostgreSQL sink writes. */
export interface PostgresBillingSinkOptions {
  /** e.g. `postgres://vouch@db.example:5432/billing`; TLS and password settings go here too. */
  readonly connectionString: string;
  /** Created when missing (default "vouch_billing"); see `billingSchemaStatements`. */
  readonly table?: string;
  /** Times flushes for the logs. */
  readonly clock: Clock;
  readonly logger: Logger;
  /** Connections kept (default 2): one batch is in flight at a time, the other is a warm spare. */
  readonly poolSize?: number;
  /** Server-side statement timeout and the bound on opening a connection (default 2000). */
  readonly statementTimeoutMs?: number;
  /** Group commit delay (default 2 ms). */
  readonly maxDelayMs?: number;
  /** Group commit batch size (default 512). */
  readonly maxBatch?: number;
  /** Called after each batch is committed, with its number of records (metrics, tests). */
  readonly onFlush?: (records: number) => void;
}

/**
 * Builds the PostgreSQL billing sink: connects, creates the table and its indexes when missing, then
 * inserts each group-commit batch with ONE multi-row INSERT (autocommit, so committed when it
 * returns) before the batch's writes resolve. A failed INSERT (server down, timeout) rejects its
 * batch; pg discards the connection it failed on, so the next batch starts on a fresh one.
 * Rejects (and closes the pool) when the database cannot be reached at start.
 */
export async function postgresBillingSink(options: PostgresBillingSinkOptions): Promise<BillingSink> {
  const settings = validate(options);
  const { table, clock, onFlush } = settings;
  const log = options.logger.child({ sink: "postgres", table });
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.statementTimeoutMs,
    // The server gives up first; the client-side bound covers a server or network that went silent.
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 500,
    idleTimeoutMillis: 30_000,
    application_name: "vouch-billing",
  });
  // An idle connection that breaks (server restart) is reported here; without a listener the
  // process would die. The pool has already dropped it, so a log line is all that is needed.
  pool.on("error", (error) => log.warn({ err: error }, "idle billing connection lost"));

  try {
    await createSchema(pool, table);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }

  const insert = billingInsertStatement(table);
  const commit = groupCommit<BillingRecord>({
    // One batch per pooled connection in flight: PostgreSQL commits them in parallel, so a commit's
    // latency no longer caps the request rate at (connections ÷ commit time).
    maxInFlight: settings.poolSize,
    maxDelayMs: options.maxDelayMs,
    maxBatch: options.maxBatch,
    flush: async (records) => {
      const started = clock.now();
      try {
        // A named statement is parsed and planned once per connection, not once per batch.
        await pool.query({ name: `vouch_insert_${table}`, text: insert, values: insertParameters(records) });
      } catch (error) {
        log.error({ err: error, records: records.length }, "billing batch could not be committed");
        throw error instanceof Error ? error : new Error(String(error));
      }
      onFlush?.(records.length);
      log.debug({ records: records.length, ms: clock.now() - started }, "billing batch committed");
    },
  });

  return {
    write: checkedWrite((record) =>
      // PostgreSQL text cannot hold NUL; refused alone here, such a record cannot fail its whole batch.
      hasNul(record) ? Promise.reject(new Error("billing record not stored: it contains a NUL character")) : commit.add(record),
    ),
    async close() {
      await commit.close();
      await pool.end();
    },
  };
}

interface PostgresSettings {
  readonly connectionString: string;
  readonly table: string;
  readonly clock: Clock;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly onFlush: ((records: number) => void) | undefined;
}

function validate(options: PostgresBillingSinkOptions): PostgresSettings {
  if (typeof options.connectionString !== "string" || options.connectionString === "") {
    throw new ConfigError("connectionString", "must be a postgres:// connection string");
  }
  const table = checkBillingTable(options.table ?? DEFAULT_BILLING_TABLE);
  const poolSize = options.poolSize ?? 4;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new ConfigError("poolSize", "must be an integer ≥ 1");
  const statementTimeoutMs = options.statementTimeoutMs ?? 2_000;
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 1) throw new ConfigError("statementTimeoutMs", "must be an integer number of milliseconds ≥ 1");
  validateBatching(options);
  return { connectionString: options.connectionString, table, clock: options.clock, poolSize, statementTimeoutMs, onFlush: options.onFlush };
}

/**
 * Creates the table and indexes in one transaction, serialized by an advisory lock: two Vouch
 * processes starting together would otherwise race inside CREATE TABLE IF NOT EXISTS and one would
 * fail on a duplicate catalog entry.
 */
async function createSchema(pool: pg.Pool, table: string): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`vouch billing schema ${table}`]);
    for (const statement of billingSchemaStatements(table)) await client.query(statement);
    await client.query("COMMIT");
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    await client.query("ROLLBACK").catch(() => {});
    throw broken;
  } finally {
    // A connection that failed mid-transaction is not reused.
    client.release(broken);
  }
}

function hasNul(record: BillingRecord): boolean {
  const strings = [record.responder, record.responderUrl, record.clientAddress, record.requestor ?? "", record.outcome, record.source ?? ""];
  for (const certificate of record.certificates ?? []) strings.push(certificate.issuerKeyHash, certificate.issuer ?? "", certificate.serial);
  return strings.some((text) => text.includes("\u0000"));
}

/** The nine column arrays of `billingInsertStatement`, in order; nulls stand for absent values. */
function insertParameters(records: readonly BillingRecord[]): unknown[][] {
  const columns: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const record of records) {
    const row = [
      record.time.toISOString(),
      record.responder,
      record.responderUrl,
      record.clientAddress,
      record.requestor ?? null,
      record.outcome,
      record.source ?? null,
      record.singleRequests ?? null,
      record.certificates === undefined
        ? null
        : JSON.stringify(
            record.certificates.map((certificate) => ({
              issuerKeyHash: certificate.issuerKeyHash,
              issuer: certificate.issuer ?? null,
              serial: certificate.serial,
              status: certificate.status,
            })),
          ),
    ];
    row.forEach((value, index) => columns[index]!.push(value));
  }
  return columns;
}
