import pg from "pg";
import type { Logger } from "../observability/logger.ts";

/** What every billing connection is opened with. */
export interface BillingConnectionSettings {
  readonly connectionString: string;
  /** Server-side statement timeout and the bound on opening a connection. */
  readonly statementTimeoutMs: number;
}

/** A client with the billing sink's timeouts and name (not yet connected). */
export function billingClient(settings: BillingConnectionSettings): pg.Client {
  return new pg.Client({
    connectionString: settings.connectionString,
    connectionTimeoutMillis: settings.statementTimeoutMs,
    // The server gives up first; the client-side bound covers a server or network that went silent.
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 500,
    application_name: "vouch-billing",
  });
}

/** One PostgreSQL connection of the billing sink, opened on first use and again after a failure. */
export interface BillingConnection {
  /** Runs one statement (autocommit); rejects when it fails, and the connection is then dropped. */
  query(statement: pg.QueryConfig): Promise<void>;
  /** Closes the connection, if one is open. */
  end(): Promise<void>;
}

/**
 * A dedicated connection rather than a pool: the sink runs at most one batch per connection, so a
 * pool's queueing, idle timers and checkout bookkeeping on every batch buy nothing. A statement
 * that fails (server gone, timeout) drops the connection, so the next batch starts on a fresh one,
 * as pg's pool did.
 */
export function billingConnection(settings: BillingConnectionSettings, log: Logger): BillingConnection {
  let current: Promise<pg.Client> | undefined;

  const open = (): Promise<pg.Client> => {
    const client = billingClient(settings);
    // An idle connection that breaks (server restart) is reported here; without a listener the
    // process would die. Dropping it is all that is needed: the next batch opens another.
    client.on("error", (error) => {
      log.warn({ err: error }, "idle billing connection lost");
      drop(opened);
    });
    const opened = client.connect().then(
      () => client,
      (error: unknown) => {
        drop(opened);
        throw error;
      },
    );
    return opened;
  };

  const drop = (which: Promise<pg.Client>): void => {
    if (current !== which) return;
    current = undefined;
    which.then((client) => client.end()).catch(() => {});
  };

  return {
    async query(statement) {
      const connection = (current ??= open());
      const client = await connection;
      try {
        await client.query(statement);
      } catch (error) {
        drop(connection);
        throw error;
      }
    },
    async end() {
      const connection = current;
      current = undefined;
      if (connection !== undefined) await connection.then((client) => client.end()).catch(() => {});
    },
  };
}
