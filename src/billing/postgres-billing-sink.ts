import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { checkedWrite } from "./billing-record-check.ts";
import type { BillingRecord, BillingSink } from "./billing-sink.ts";
import { groupCommit, validateBatching } from "./group-commit.ts";
import { billingClient, billingConnection } from "./postgres-billing-connection.ts";
import { DEFAULT_BILLING_TABLE, billingInsertStatement, billingProbeStatement, billingSchemaStatements, checkBillingTable, type BillingInsertRow } from "./postgres-billing-schema.ts";

/** Where and how the PostgreSQL sink writes. */
export interface PostgresBillingSinkOptions {
  /** e.g. `postgres://vouch@db.example:5432/billing`; TLS and password settings go here too. */
  readonly connectionString: string;
  /** Created when missing (default "vouch_billing"); see `billingSchemaStatements`. */
  readonly table?: string;
  /** Times flushes for the logs. */
  readonly clock: Clock;
  readonly logger: Logger;
  /** Connections kept, and so batches committing at once (default 1, see `DEFAULT_CONNECTIONS`). */
  readonly poolSize?: number;
  /** Server-side statement timeout and the bound on opening a connection (default 2000). */
  readonly statementTimeoutMs?: number;
  /** Group commit delay (default 2 ms). */
  readonly maxDelayMs?: number;
  /** Group commit batch size (default 512). */
  readonly maxBatch?: number;
  /** Called after each batch is committed, with its number of records (metrics, tests). */
  readonly onFlush?: (records: number) => void;
  /** Called after a batch could not be committed (metrics, readiness). */
  readonly onFailure?: (records: number, error: unknown) => void;
}

/**
 * Default connections: one. Measured with 8 clients signing and billing every request, one batch
 * committing at a time gave batches of ~3.5 records and half the database CPU per record of four
 * (batches of ~1.3), at the same request rate: PostgreSQL flushes its WAL for one commit at a time
 * anyway, so parallel batches mostly paid for more statements, round trips and wake-ups.
 */
const DEFAULT_CONNECTIONS = 1;

/**
 * Builds the PostgreSQL billing sink: connects, creates the table and its indexes when missing, then
 * inserts each group-commit batch with ONE multi-row INSERT (autocommit, so committed when it
 * returns) before the batch's writes resolve. A failed INSERT (server down, timeout) rejects its
 * batch; the connection it failed on is dropped, so the next batch starts on a fresh one.
 * Rejects when the database cannot be reached at start.
 */
export async function postgresBillingSink(options: PostgresBillingSinkOptions): Promise<BillingSink> {
  const settings = validate(options);
  const { table, clock, onFlush } = settings;
  const log = options.logger.child({ sink: "postgres", table });
  const connections = Array.from({ length: settings.poolSize }, () => billingConnection(settings, log));
  try {
    await createSchema(settings, table);
  } catch (error) {
    await Promise.all(connections.map((connection) => connection.end()));
    throw error;
  }
  /** The connections no batch is using; the group commit never runs more batches than there are. */
  const idle = [...connections];

  const insert = billingInsertStatement(table);
  const commit = groupCommit<BillingRecord>({
    maxInFlight: settings.poolSize,
    maxDelayMs: options.maxDelayMs,
    maxBatch: options.maxBatch,
    flush: async (records) => {
      const started = clock.now();
      const connection = idle.pop()!;
      try {
        // A named statement is parsed and planned once per connection, not once per batch.
        await connection.query({ name: `vouch_insert_${table}`, text: insert, values: [insertParameter(records)] });
      } catch (error) {
        log.error({ err: error, records: records.length }, "billing batch could not be committed");
        options.onFailure?.(records.length, error);
        throw error instanceof Error ? error : new Error(String(error));
      } finally {
        idle.push(connection);
      }
      onFlush?.(records.length);
      log.debug({ records: records.length, ms: clock.now() - started }, "billing batch committed");
    },
  });

  // Its own connection: a probe must not wait behind a batch, nor a batch behind a probe.
  const prober = billingConnection(settings, log);
  const probe = billingProbeStatement(table);
  return {
    probe: () => prober.query({ text: probe }),
    write: checkedWrite((record) =>
      // PostgreSQL text cannot hold NUL; refused alone here, such a record cannot fail its whole batch.
      hasNul(record) ? Promise.reject(new Error("billing record not stored: it contains a NUL character")) : commit.add(record),
    ),
    async close() {
      await commit.close();
      await Promise.all([...connections, prober].map((connection) => connection.end()));
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
  const poolSize = options.poolSize ?? DEFAULT_CONNECTIONS;
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
async function createSchema(settings: PostgresSettings, table: string): Promise<void> {
  const client = billingClient(settings);
  // A connection that breaks while the schema is created also fails the query in progress, which
  // reports it; the listener only keeps the process alive.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`vouch billing schema ${table}`]);
    for (const statement of billingSchemaStatements(table)) await client.query(statement);
    await client.query("COMMIT");
  } finally {
    // Ending the session rolls back whatever did not commit.
    await client.end().catch(() => {});
  }
}

function hasNul(record: BillingRecord): boolean {
  const strings = [record.responder, record.responderUrl, record.clientAddress, record.requestor ?? "", record.tlsSubject ?? "", record.signerSubject ?? "", record.outcome, record.source ?? ""];
  for (const certificate of record.certificates ?? []) strings.push(certificate.issuerKeyHash, certificate.issuer ?? "", certificate.serial);
  return strings.some((text) => text.includes("\u0000"));
}

/**
 * The JSON parameter of `billingInsertStatement`: one object per record. Strings are made well
 * formed first: JSON would carry a lone surrogate (a subject can hold one) as an escape PostgreSQL
 * refuses, failing the whole batch; as UTF-8 text it became U+FFFD, and still does.
 */
function insertParameter(records: readonly BillingRecord[]): string {
  return JSON.stringify(
    records.map(
      (record): BillingInsertRow => ({
        t: record.time.toISOString(),
        r: record.responder.toWellFormed(),
        u: record.responderUrl.toWellFormed(),
        a: record.clientAddress.toWellFormed(),
        q: record.requestor?.toWellFormed() ?? null,
        l: record.tlsSubject?.toWellFormed() ?? null,
        g: record.signerSubject?.toWellFormed() ?? null,
        z: record.authorizedBy ?? null,
        o: record.outcome,
        s: record.source ?? null,
        n: record.singleRequests ?? null,
        c:
          record.certificates?.map((certificate) => ({
            issuerKeyHash: certificate.issuerKeyHash.toWellFormed(),
            issuer: certificate.issuer?.toWellFormed() ?? null,
            serial: certificate.serial.toWellFormed(),
            status: certificate.status,
          })) ?? null,
      }),
    ),
  );
}
