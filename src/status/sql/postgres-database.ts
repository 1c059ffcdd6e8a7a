/**
 * SqlDatabase over PostgreSQL (pg). Every connection's search_path is the store's own schema, so
 * the store's statements name their tables unqualified and several stores (or test runs) can share
 * one database, each in its own schema.
 */
import pg from "pg";
import { ConfigError } from "../../errors.ts";
import type { SqlDatabase, SqlQueries, SqlValue } from "./sql-database.ts";
import { redactUrl, SCHEMA_NAME } from "./database-url.ts";

/** Options of a PostgreSQL store. */
export interface PostgresDatabaseOptions {
  /** `postgres://user[:password]@host[:port]/database[?…]`. */
  readonly url: string;
  /** The schema holding the store's tables; created when missing. */
  readonly schema: string;
  /** Connections kept (default 2). */
  readonly poolSize?: number;
  /**
   * Server-side statement timeout, the bound on opening a connection, and (a little later) the
   * client's own bound on a query, for a server or network that went silent, ms (default 30000).
   */
  readonly statementTimeoutMs?: number;
}

/** The settings of every connection to the store (the schema name must have been checked against SCHEMA_NAME). */
export function postgresClientConfig(options: PostgresDatabaseOptions): pg.ClientConfig {
  const timeout = options.statementTimeoutMs ?? 30_000;
  return {
    connectionString: options.url,
    options: `-c search_path=${options.schema}`,
    connectionTimeoutMillis: timeout,
    // The server gives up first; the client-side bound covers a server or network that went silent
    // (no reset, no answer): the query fails and a pool drops its connection (as the billing sink does).
    statement_timeout: timeout,
    query_timeout: timeout + 500,
    keepAlive: true,
    application_name: "vouch-store",
  };
}

/**
 * Connects to PostgreSQL and creates the schema when missing. Rejects with ConfigError("schema")
 * for a schema name that is not a plain identifier, and ConfigError("database") when the server
 * cannot be reached or refuses the connection (the message names the URL without its password).
 */
export async function openPostgresDatabase(options: PostgresDatabaseOptions): Promise<SqlDatabase> {
  if (!SCHEMA_NAME.test(options.schema)) throw new ConfigError("schema", `"${options.schema}" is not a lower-case identifier (letters, digits, '_')`);
  const description = redactUrl(options.url);
  const config = postgresClientConfig(options);
  const pool = new pg.Pool({ ...config, max: options.poolSize ?? 2, idleTimeoutMillis: 30_000 });
  // A broken idle connection is dropped by the pool; without a listener the process would exit.
  pool.on("error", () => {});
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
  } catch (error) {
    // Two processes creating the schema at once: the loser sees a duplicate, which is fine.
    const code = (error as { code?: string }).code;
    if (code !== "23505" && code !== "42P06") {
      await pool.end().catch(() => {});
      throw new ConfigError("database", `cannot use PostgreSQL ${description}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  const on = (client: pg.Pool | pg.PoolClient): SqlQueries => ({
    async query(sql, params = []) {
      return (await client.query<SqlValue[]>({ text: sql, values: [...params], rowMode: "array" })).rows;
    },
    async run(sql, params = []) {
      return (await client.query({ text: sql, values: [...params] })).rowCount ?? 0;
    },
  });
  return {
    engine: "postgres",
    description,
    ...on(pool),
    async transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: unknown;
      try {
        await client.query("BEGIN");
        const result = await work(on(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError));
        throw error;
      } finally {
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    async listen(channel, onNotify, onError) {
      const client = new pg.Client({ ...config, application_name: "vouch-store-listen" });
      client.on("notification", (message) => {
        if (message.channel === channel) onNotify();
      });
      let stopped = false;
      client.on("error", (error) => {
        if (stopped) return;
        stopped = true;
        client.end().catch(() => {});
        onError(error);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${channel}`);
      } catch (error) {
        stopped = true;
        await client.end().catch(() => {});
        throw error;
      }
      return async () => {
        if (stopped) return;
        stopped = true;
        await client.end();
      };
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
