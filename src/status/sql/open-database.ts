/**
 * Chooses the engine from the `database` setting: a `postgres://` or `postgresql://` URL is
 * PostgreSQL, anything else is the path of an SQLite file. The schema's migrations are applied
 * before the database is handed out.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import { isPostgresUrl } from "./database-url.ts";
import { migrate } from "./migrations.ts";
import type { SqlDatabase } from "./sql-database.ts";
import { openSqliteDatabase } from "./sqlite-database.ts";

/** Where the store lives. */
export interface StoreLocation {
  /** An SQLite file path, or a `postgres://…` URL. */
  readonly database: string;
  /** PostgreSQL only: the schema holding the tables (default "vouch"); ignored for SQLite. */
  readonly schema?: string | undefined;
  readonly clock: Clock;
  /**
   * PostgreSQL only: how long a statement, or opening a connection, may take (ms; default 30000);
   * past it the connection is dropped, so a server or network that went silent is not waited on.
   */
  readonly timeoutMs?: number | undefined;
}

/** The PostgreSQL schema used when none is configured. */
export const DEFAULT_SCHEMA = "vouch";

/**
 * Opens the store's database and brings its schema up to date (see migrations.ts). Rejects with
 * ConfigError("database" | "schema") when it cannot be opened or reached, or when its schema is
 * newer than this Vouch knows; the database is closed again in that case.
 */
export async function openStoreDatabase(location: StoreLocation): Promise<SqlDatabase> {
  if (typeof location.database !== "string" || location.database === "") throw new ConfigError("database", "must be an SQLite file path or a postgres:// URL");
  const db = isPostgresUrl(location.database)
    ? // pg loads only for a PostgreSQL store (~70 ms of start-up otherwise).
      await (await import("./postgres-database.ts")).openPostgresDatabase({
        url: location.database,
        schema: location.schema ?? DEFAULT_SCHEMA,
        ...(location.timeoutMs === undefined ? {} : { statementTimeoutMs: location.timeoutMs }),
      })
    : openSqliteDatabase(location.database);
  try {
    await migrate(db, location.clock);
  } catch (error) {
    await db.close().catch(() => {});
    if (error instanceof ConfigError) throw error;
    throw new ConfigError("database", `cannot prepare the store in ${db.description}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return db;
}
