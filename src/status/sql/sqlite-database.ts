/**
 * SqlDatabase over embedded SQLite (node:sqlite DatabaseSync, built into Node 24). Calls are
 * synchronous underneath: the store keeps each statement small (point queries, pages of a few
 * thousand rows) so that no single call blocks the event loop for long.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { ConfigError } from "../../errors.ts";
import type { SqlDatabase, SqlQueries, SqlValue } from "./sql-database.ts";

/**
 * How often `listen` reads PRAGMA data_version: a change committed by `vouch store` (another
 * connection) is seen within this, against the loader's 1 s poll (issue 14 item 5: 0.89 s seen).
 */
const SQLITE_CHANGE_POLL_MS = 50;

/** How long a writer waits for another process's write lock before failing (SQLITE_BUSY). */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens (creating when missing) the SQLite file `file` in WAL mode, so that a `vouch store` writer
 * never blocks the readers of a running Vouch. Throws ConfigError("database") when it cannot be
 * opened (a missing folder, not an SQLite file, no permission).
 */
export function openSqliteDatabase(file: string): SqlDatabase {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    db.exec("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;");
  } catch (error) {
    throw new ConfigError("database", `cannot open SQLite database ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      // node:sqlite binds positional arguments to ?NNN by number, like PostgreSQL's $NNN.
      statement = db.prepare(sql.replace(/\$(\d+)/g, "?$1"));
      statement.setReturnArrays(true);
      statements.set(sql, statement);
    }
    return statement;
  };
  // Array values are PostgreSQL-only (see SqlValue); node:sqlite refuses them with a TypeError.
  const bind = (params: readonly SqlValue[]): (null | number | bigint | string | Uint8Array)[] => params as (null | number | bigint | string | Uint8Array)[];
  const queries: SqlQueries = {
    async query(sql, params = []) {
      return prepare(sql).all(...bind(params)) as unknown as SqlValue[][];
    },
    async run(sql, params = []) {
      return Number(prepare(sql).run(...bind(params)).changes);
    },
  };
  let inTransaction = false;
  return {
    engine: "sqlite",
    description: file,
    ...queries,
    async transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T> {
      if (inTransaction) throw new Error("SQLite transactions do not nest");
      inTransaction = true;
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(queries);
        db.exec("COMMIT");
        return result;
      } catch (error) {
        // SQLite may already have rolled back (e.g. SQLITE_FULL); the original error is the news.
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      } finally {
        inTransaction = false;
      }
    },
    async listen(_channel, onNotify, onError) {
      // data_version changes when another connection commits; this connection's own writes do not change it.
      const version = db.prepare("PRAGMA data_version");
      const read = (): unknown => (version.get() as { data_version?: unknown } | undefined)?.data_version;
      let last = read();
      const timer = setInterval(() => {
        let now: unknown;
        try {
          now = read();
        } catch (error) {
          clearInterval(timer);
          onError(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (now !== last) {
          last = now;
          onNotify();
        }
      }, SQLITE_CHANGE_POLL_MS);
      timer.unref();
      return async () => clearInterval(timer);
    },
    async close() {
      statements.clear();
      if (db.isOpen) db.close();
    },
  };
}
