/**
 * A StatusSource over the SQL status store (SQLite file or PostgreSQL), for one issuer.
 *
 * Design (measured, see docs/sql-store.md): lookups never touch the database. The source keeps an
 * in-memory mirror of the issuer's rows (status-mirror.ts) and refreshes it in the background:
 * every `pollIntervalMs` it asks for the rows whose change number is above the last one it saw
 * (an index range scan that returns nothing when nothing changed), and on PostgreSQL it also
 * LISTENs for the NOTIFY every `vouch store` write sends, so a change arrives within milliseconds
 * and the poll is only the safety net (a lost connection, a writer that is not Vouch). A query per
 * lookup was the alternative: ~5 k lookups/s with 8 pg connections here (DEPENDENCIES.md §4),
 * against 95-390 k status() calls/s from the mirror (bench/sql-load.ts, 1 M rows, on this
 * 2-core machine under a load average of 15-30), and SQLite's synchronous calls would block the
 * event loop. The cost is memory (about 50 bytes per certificate) and a full load at start and
 * after many changes, which runs on a thread of its own (load-table-in-worker.ts).
 *
 * The store lists every certificate the issuer issued, so a serial it lacks is "not-issued".
 * Answers carry, as thisUpdate, the time the last successful refresh started (the last time the
 * mirror was confirmed current), and as nextUpdate that time + `maxStalenessMs`: an answer never
 * promises more freshness than its data has. While the database is unreachable the source keeps
 * answering from the mirror with an ageing thisUpdate; once the nextUpdate passes, the stale-data
 * guard (guard-stale.ts) turns its answers into tryLater (SPEC §2 step 7) and readiness reports it
 * (`freshness()`), until a refresh succeeds again. That one rule, in the answers' nextUpdate, is
 * all the staleness handling: nothing else here special-cases an outage.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import type { CertId } from "../../ocsp/types.ts";
import { issuerMatch } from "../issuer-match.ts";
import { requireClock, requireDer, requireLogger } from "../source-options.ts";
import type { OpenedSource, StatusAnswer } from "../status-source.ts";
import { issuerIdentity } from "./issuer-identity.ts";
import { isPostgresUrl } from "./database-url.ts";
import type { TableLoader } from "./load-table-in-worker.ts";
import { startTableLoad } from "./load-table-in-worker.ts";
import { DEFAULT_SCHEMA, openStoreDatabase } from "./open-database.ts";
import { SCHEMA_NAME } from "./database-url.ts";
import type { SqlDatabase } from "./sql-database.ts";
import type { StatusMirror } from "./status-mirror.ts";
import { loadMirror, MAX_OVERLAY } from "./status-mirror.ts";
import { changeChannel, findIssuer, readChanges } from "./status-store.ts";

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
  /** Changes kept beside the loaded table before it is reloaded whole (default MAX_OVERLAY, at least 1). */
  readonly maxOverlay?: number | undefined;
  /**
   * How long the mirror may go unconfirmed, ms: answers carry nextUpdate = last successful refresh +
   * this (default DEFAULT_MAX_STALENESS_MS, at least 1000). Composition passes the issuer's
   * responseValidity unless the source configures less.
   */
  readonly maxStalenessMs?: number | undefined;
}

/** Default of `maxStalenessMs`: one hour, the default responseValidity. */
export const DEFAULT_MAX_STALENESS_MS = 3_600_000;

/**
 * A refresh is given as long as the data may go unconfirmed (a later answer is of no use), within
 * [1 s, 30 s] (30 s: the store's statement timeout). On PostgreSQL this bounds every query and
 * connection attempt of the source, so a connection that went silent is dropped and replaced
 * rather than waited on for good.
 */
export function refreshTimeoutMs(maxStalenessMs: number): number {
  return Math.min(30_000, Math.max(1_000, maxStalenessMs));
}

/** A StatusSource that can say how old its data is. */
export interface SqlSource extends OpenedSource {
  /**
   * When the last successful refresh started (ms) and the nextUpdate its answers carry; with the
   * last refresh's error while refreshes fail. `undefined` while the store has no data for the issuer.
   */
  freshness(): { readonly loadedAt: number; readonly nextUpdate: number; readonly problem?: string } | undefined;
}

/**
 * Opens the store (applying migrations), loads the issuer's rows and starts refreshing. Resolves
 * once the first load is done; when the store does not know the issuer yet it resolves anyway,
 * logs a warning, answers `undefined` and keeps looking. Rejects with ConfigError("database" |
 * "schema" | "issuer" | "pollIntervalMs" | "maxOverlay" | "maxStalenessMs" | "clock" | "logger") for a bad option or a database
 * that cannot be opened or read.
 */
export async function openSqlSource(options: SqlSourceOptions): Promise<SqlSource> {
  const issuerDer = requireDer(options.issuer, "issuer");
  const clock = requireClock(options.clock);
  const identity = issuerIdentity(issuerDer);
  const match = issuerMatch(issuerDer);
  const interval = options.pollIntervalMs ?? 1000;
  if (!Number.isInteger(interval) || interval < 10) throw new ConfigError("pollIntervalMs", "must be an integer number of milliseconds ≥ 10");
  const maxOverlay = options.maxOverlay ?? MAX_OVERLAY;
  if (!Number.isInteger(maxOverlay) || maxOverlay < 1) throw new ConfigError("maxOverlay", "must be an integer ≥ 1");
  const maxStaleness = options.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS;
  if (!Number.isInteger(maxStaleness) || maxStaleness < 1000) throw new ConfigError("maxStalenessMs", "must be an integer number of milliseconds ≥ 1000");
  const logger = requireLogger(options.logger);
  const schema = options.schema ?? DEFAULT_SCHEMA;
  // The first load's threads start now, so that their start-up (and pg's connection) overlaps opening
  // and migrating the store; only for settings that can be used before openStoreDatabase checks them.
  let early: TableLoader | undefined =
    typeof options.database === "string" && options.database !== "" && (!isPostgresUrl(options.database) || SCHEMA_NAME.test(schema))
      ? startTableLoad({ engine: isPostgresUrl(options.database) ? "postgres" : "sqlite", database: options.database, schema })
      : undefined;
  const dropEarly = async (): Promise<void> => {
    const unused = early;
    early = undefined;
    await unused?.cancel();
  };
  let db: SqlDatabase;
  try {
    db = await openStoreDatabase({ database: options.database, schema: options.schema, clock, timeoutMs: refreshTimeoutMs(maxStaleness) });
  } catch (error) {
    await dropEarly();
    throw error;
  }
  // `issuer` is the caller's to set (build-issuer.ts does): a second one here repeated the key in every line.
  const log = logger.child({ source: "sql", database: db.description });

  let issuerId: number | undefined;
  let mirror: StatusMirror | undefined;
  let seq = 0;
  let loadedAt: number | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  /** The last refresh's error while refreshes fail, for readiness. */
  let failure: string | undefined;

  const fullLoad = async (id: number): Promise<void> => {
    const loader = early ?? startTableLoad({ engine: db.engine, database: options.database, schema });
    early = undefined;
    const loaded = await loadMirror(loader, id);
    mirror = loaded.mirror;
    seq = loaded.seq;
    log.info({ entries: loaded.mirror.baseSize }, "sql store loaded");
  };

  const refresh = async (): Promise<void> => {
    const started = clock.now();
    issuerId ??= await findIssuer(db, identity.keySha256);
    if (issuerId === undefined) return;
    // Also after a failed first load: changes alone never make a mirror.
    if (mirror === undefined) await fullLoad(issuerId);
    const changes = await readChanges(db, issuerId, seq, maxOverlay + 1);
    if ((mirror?.overlaySize ?? 0) + changes.length > maxOverlay) {
      await fullLoad(issuerId);
    } else if (changes.length > 0) {
      mirror?.apply(changes);
      for (const change of changes) if (change.seq > seq) seq = change.seq;
      log.debug({ changes: changes.length, seq }, "sql store changes applied");
    }
    loadedAt = started;
  };

  // One refresh at a time; a request during one (a NOTIFY) runs another right after it.
  let running: Promise<void> | undefined;
  let again = false;
  const requestRefresh = (): Promise<void> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await refresh();
          if (failure !== undefined) log.info({}, "sql store reachable again");
          failure = undefined;
        } catch (error) {
          if (failure === undefined) log.warn({ err: error }, "sql store refresh failed; answering from the last data read until it is older than maxStaleness");
          failure = `the sql store ${db.description} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
        }
      } while (again && !closed);
      running = undefined;
    })();
    return running;
  };

  try {
    await refresh();
  } catch (error) {
    await dropEarly();
    await db.close().catch(() => {});
    throw new ConfigError("database", `cannot read the store in ${db.description}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // Not used when the store does not know the issuer yet: a later load starts its own threads.
  await dropEarly();
  if (issuerId === undefined) log.warn({}, "the sql store lists no certificates of this issuer yet; answering nothing for it until some are imported");

  let stopListening: (() => Promise<void>) | undefined;
  let listening = false;
  const listen = async (): Promise<void> => {
    if (db.listen === undefined || listening || closed) return;
    listening = true;
    try {
      stopListening = await db.listen(
        changeChannel(options.schema ?? DEFAULT_SCHEMA),
        () => void requestRefresh(),
        (error) => {
          log.warn({ err: error }, "sql store notifications lost; polling until they are back");
          listening = false;
          stopListening = undefined;
        },
      );
      // Changes committed while the listener was down are caught up now.
      void requestRefresh();
    } catch (error) {
      listening = false;
      log.warn({ err: error }, "cannot listen for sql store notifications; polling");
    }
  };
  await listen();

  const timer = setInterval(() => {
    void listen();
    void requestRefresh();
  }, interval);
  timer.unref();

  return {
    status(id: CertId): StatusAnswer | undefined {
      if (closed || mirror === undefined || loadedAt === undefined || !match.matches(id)) return undefined;
      const found = mirror.lookup(id.serialNumber);
      const thisUpdate = new Date(loadedAt);
      const nextUpdate = new Date(loadedAt + maxStaleness);
      if (found === undefined) return { kind: "not-issued", thisUpdate, nextUpdate };
      if (found.revokedAt === undefined) return { kind: "good", thisUpdate, nextUpdate };
      return {
        kind: "revoked",
        thisUpdate,
        nextUpdate,
        revokedAt: new Date(found.revokedAt),
        reason: found.reason,
        invalidityDate: found.invalidityDate === undefined ? undefined : new Date(found.invalidityDate),
      };
    },
    freshness() {
      if (mirror === undefined || loadedAt === undefined) return undefined;
      return { loadedAt, nextUpdate: loadedAt + maxStaleness, ...(failure === undefined ? {} : { problem: failure }) };
    },
    serials: () => (closed || mirror === undefined ? [] : mirror.serials()),
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        clearInterval(timer);
        await running;
        await stopListening?.().catch(() => {});
        await db.close();
      })();
      return closing;
    },
  };
}
