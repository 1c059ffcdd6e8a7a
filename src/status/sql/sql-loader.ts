/**
 * The table loader for the SQL status store (SQLite file or PostgreSQL), for one issuer.
 *
 * Design (measured, see docs/sql-store.md): lookups never touch the database. The table source
 * answers from a table of the issuer's rows with the rows changed since laid over it, and this
 * loader keeps it current in the background: every `pollIntervalMs` it asks for the rows whose
 * change number is above the last one it saw (an index range scan that returns nothing when nothing
 * changed), and on PostgreSQL it also LISTENs for the NOTIFY every `vouch store` write sends (on
 * SQLite it reads `PRAGMA data_version` every 50 ms, which another connection's commit changes), so
 * a change arrives within milliseconds and the poll is only the safety net (a lost connection, a
 * writer that is not Vouch). A query per lookup was the alternative: ~5 k lookups/s with 8 pg
 * connections here (DEPENDENCIES.md §4), against 95-390 k status() calls/s from memory
 * (bench/sql-load.ts, 1 M rows, on this 2-core machine under a load average of 15-30), and SQLite's
 * synchronous calls would block the event loop. The cost is memory (about 50 bytes per
 * certificate) and a full load at start and after many changes, on loading threads
 * (sql-table-load.ts).
 *
 * The store lists every certificate the issuer issued, so a serial it lacks is "not-issued". The
 * data is a mirror (table-loader.ts `Dating`): answers carry the start of the last successful
 * refresh as thisUpdate and that + `maxStalenessMs` as nextUpdate. While the database is
 * unreachable the table source keeps answering with those dates; once the nextUpdate passes, the
 * stale-data guard turns its answers into tryLater (SPEC §2 step 7) and readiness reports it.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { requireClock, requireDer, requireLogger } from "../source-options.ts";
import { putRecord, SerialTableBuilder } from "../table/serial-table.ts";
import type { DataKind, Refresh, RowBatch, TableLoader } from "../table/table-loader.ts";
import { openTableSource, type TableSource } from "../table/table-source.ts";
import { crlReasonFromCode } from "../../ocsp/types.ts";
import { describeDatabase, isPostgresUrl, SCHEMA_NAME } from "./database-url.ts";
import { issuerIdentity, type IssuerIdentity } from "./issuer-identity.ts";
import { DEFAULT_SCHEMA, openStoreDatabase } from "./open-database.ts";
import type { SqlDatabase } from "./sql-database.ts";
import { startSqlLoad, type SqlLoad } from "./sql-table-load.ts";
import { changeChannel, findIssuer, lastChangeAfter, readChanges, type StoredCertificate } from "./status-store.ts";

/** Changes laid over the loaded table before the whole table is loaded again (default of `maxOverlay`). */
const MAX_OVERLAY = 50_000;

export interface SqlSourceOptions {
  /** An SQLite file path or a `postgres://` URL (see open-database.ts). */
  readonly database: string;
  /** PostgreSQL schema of the store (default "vouch"). */
  readonly schema?: string | undefined;
  /** DER of the CA certificate whose certificates this source answers for. */
  readonly issuer: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often to look for changes, ms (default 1000, at least 10). */
  readonly pollIntervalMs?: number | undefined;
  /** Changes laid over the loaded table before it is reloaded whole (default MAX_OVERLAY, at least 1). */
  readonly maxOverlay?: number | undefined;
  /**
   * How long the mirror may go unconfirmed, ms: answers carry nextUpdate = last successful refresh +
   * this (default DEFAULT_MAX_STALENESS_MS, at least 1000). Composition passes the issuer's
   * responseValidity unless the source configures less.
   */
  readonly maxStalenessMs?: number | undefined;
}

/** Default of `maxStalenessMs`: one hour, the default responseValidity. */
const DEFAULT_MAX_STALENESS_MS = 3_600_000;

/**
 * A refresh is given as long as the data may go unconfirmed (a later answer is of no use), within
 * [1 s, 30 s] (30 s: the store's statement timeout). On PostgreSQL this bounds every query and
 * connection attempt of the source, so a connection that went silent is dropped and replaced
 * rather than waited on for good.
 */
function refreshTimeoutMs(maxStalenessMs: number): number {
  return Math.min(30_000, Math.max(1_000, maxStalenessMs));
}

/**
 * Opens the store (applying migrations), loads the issuer's rows and starts refreshing. Resolves
 * once the first load is done; when the store does not know the issuer yet it resolves anyway,
 * logs a warning, answers `undefined` and keeps looking. Rejects with ConfigError("database" |
 * "schema" | "issuer" | "pollIntervalMs" | "maxOverlay" | "maxStalenessMs" | "clock" | "logger") for a bad option or a database
 * that cannot be opened or read.
 */
export async function openSqlSource(options: SqlSourceOptions): Promise<TableSource> {
  const issuerDer = requireDer(options.issuer, "issuer");
  const clock = requireClock(options.clock);
  const identity = issuerIdentity(issuerDer);
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10) throw new ConfigError("pollIntervalMs", "must be an integer number of milliseconds ≥ 10");
  const maxOverlay = options.maxOverlay ?? MAX_OVERLAY;
  if (!Number.isInteger(maxOverlay) || maxOverlay < 1) throw new ConfigError("maxOverlay", "must be an integer ≥ 1");
  const maxStalenessMs = options.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS;
  if (!Number.isInteger(maxStalenessMs) || maxStalenessMs < 1000) throw new ConfigError("maxStalenessMs", "must be an integer number of milliseconds ≥ 1000");
  // `issuer` is the caller's to set (build-issuer.ts does): a second one here repeated the key in every line.
  const logger = requireLogger(options.logger).child({ source: "sql", database: describeDatabase(String(options.database)) });
  const settings: SqlLoaderOptions = { ...options, schema: options.schema ?? DEFAULT_SCHEMA, identity, clock, logger, pollIntervalMs, maxOverlay, maxStalenessMs };
  return openTableSource({ issuer: issuerDer, loader: sqlLoader(settings), clock, logger });
}

interface SqlLoaderOptions {
  readonly database: string;
  readonly schema: string;
  readonly identity: IssuerIdentity;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pollIntervalMs: number;
  readonly maxOverlay: number;
  readonly maxStalenessMs: number;
}

function sqlLoader(options: SqlLoaderOptions): TableLoader {
  const { database, schema, identity, clock, logger: log, maxOverlay } = options;
  const engine = isPostgresUrl(database) ? "postgres" : "sqlite";
  let db: SqlDatabase | undefined;
  let issuerId: number | undefined;
  /** The change number the data in use is complete as of (undefined while there is none). */
  let seq: number | undefined;
  // The first load's threads start with it, so that their start-up (and pg's connection) overlaps opening
  // and migrating the store; only for settings that can be used before openStoreDatabase checks them.
  let early: SqlLoad | undefined;
  const dropEarly = async (): Promise<void> => {
    const unused = early;
    early = undefined;
    await unused?.cancel();
  };
  let due: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopListening: (() => Promise<void>) | undefined;
  let listening = false;
  let closed = false;
  let busy: Promise<unknown> = Promise.resolve();

  /** Every row of the issuer, on loading threads. */
  const loadWhole = async (id: number, changedAt: number): Promise<Refresh> => {
    const load = early ?? startSqlLoad({ engine, database, schema });
    early = undefined;
    const loaded = await load.load(id);
    seq = loaded.seq;
    // Rows committed while it loaded are caught up by the refresh right after this one.
    due?.();
    return { kind: "whole", snapshot: { table: loaded.table }, changedAt, announce: (table) => log.info({ entries: table.size }, "sql store loaded") };
  };

  const catchUp = async (overlayRows: number): Promise<Refresh> => {
    const store = db!;
    issuerId ??= await findIssuer(store, identity.keySha256);
    if (issuerId === undefined) return { kind: "idle" };
    // Also after a failed first load: changes alone never make a table.
    if (seq === undefined) return loadWhole(issuerId, clock.now());
    const changes = await readChanges(store, issuerId, seq, maxOverlay + 1);
    if (overlayRows + changes.length > maxOverlay) return loadWhole(issuerId, (await lastChangeAfter(store, issuerId, seq)) ?? clock.now());
    if (changes.length === 0) return { kind: "same" };
    for (const change of changes) if (change.seq > (seq ?? 0)) seq = change.seq;
    log.debug({ changes: changes.length, seq }, "sql store changes applied");
    return { kind: "rows", batches: batchesOf(changes) };
  };

  const listen = async (): Promise<void> => {
    if (db?.listen === undefined || listening || closed) return;
    listening = true;
    try {
      stopListening = await db.listen(
        changeChannel(schema),
        () => due?.(),
        (error) => {
          log.warn({ err: error }, "sql store notifications lost; polling until they are back");
          listening = false;
          stopListening = undefined;
        },
      );
      // Changes committed while the listener was down are caught up now.
      due?.();
    } catch (error) {
      listening = false;
      log.warn({ err: error }, "cannot listen for sql store notifications; polling");
    }
  };

  // A mirror of the store, which lists every certificate the issuer issued; polled until it can be read again.
  const data: DataKind = {
    name: "sql",
    dating: { kind: "mirror", maxStalenessMs: options.maxStalenessMs },
    listsIssued: true,
    failures: {
      kind: "per-outage",
      warning: "sql store refresh failed; answering from the last data read until it is older than maxStaleness",
      recovered: "sql store reachable again",
      problem: (error) => `the sql store ${db?.description ?? describeDatabase(database)} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    },
  };
  return {
    data,
    async load() {
      early = typeof database === "string" && database !== "" && (engine === "sqlite" || SCHEMA_NAME.test(schema)) ? startSqlLoad({ engine, database, schema }) : undefined;
      try {
        db = await openStoreDatabase({ database, schema, clock, timeoutMs: refreshTimeoutMs(options.maxStalenessMs) });
      } catch (error) {
        await dropEarly();
        throw error;
      }
      let first: Refresh;
      try {
        first = await catchUp(0);
      } catch (error) {
        await dropEarly();
        await db.close().catch(() => {});
        db = undefined;
        throw new ConfigError("database", `cannot read the store in ${describeDatabase(database)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      // Not used when the store does not know the issuer yet: a later load starts its own threads.
      await dropEarly();
      if (first.kind !== "whole") {
        log.warn({}, "the sql store lists no certificates of this issuer yet; answering nothing for it until some are imported");
        return undefined;
      }
      return { snapshot: first.snapshot, ...(first.announce === undefined ? {} : { announce: first.announce }) };
    },
    async watch(onDue) {
      due = onDue;
      await listen();
      timer = setInterval(() => {
        void listen();
        due?.();
      }, options.pollIntervalMs);
      timer.unref();
      // Rows committed since the first load's snapshot.
      due();
    },
    refresh(current) {
      const running = catchUp(current?.overlayRows ?? 0);
      busy = running.catch(() => {});
      return running;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await busy;
      await stopListening?.().catch(() => {});
      await db?.close();
      await dropEarly();
    },
  };
}

/** The changed rows as tables, one per change time (a `vouch store` write stamps its rows with one). */
function batchesOf(changes: readonly StoredCertificate[]): RowBatch[] {
  const byTime = new Map<number, StoredCertificate[]>();
  for (const change of changes) byTime.set(change.updatedAt, [...(byTime.get(change.updatedAt) ?? []), change]);
  return [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([changedAt, rows]) => {
      const table = new SerialTableBuilder({ maxRows: rows.length, maxPoolBytes: rows.length * 32, expectedRows: rows.length });
      for (const row of rows) {
        const serial = Buffer.from(row.serial.buffer, row.serial.byteOffset, row.serial.byteLength);
        putRecord(table, serial, { revokedAt: row.revokedAt, reason: row.reason === undefined ? undefined : crlReasonFromCode(row.reason), invalidityDate: row.invalidityDate });
      }
      return { rows: table, changedAt };
    });
}
