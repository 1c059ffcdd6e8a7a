/**
 * The one small interface the SQL status store needs from a database engine, so that the store,
 * its migrations, the `vouch store` commands and the sql source are written once for both embedded
 * SQLite (node:sqlite) and PostgreSQL (pg). SQL text uses `$1, $2, …` placeholders (the SQLite
 * engine rewrites them to `?1, ?2, …`); statements that differ between the engines are chosen by
 * `engine` where they are written (see status-store.ts and migrations.ts).
 */

/**
 * A column value as the engines return and accept it (bytea/BLOB as bytes, BIGINT possibly as
 * text). Arrays are parameters for PostgreSQL only (`unnest($1::bytea[])`).
 */
export type SqlValue = null | number | bigint | string | Uint8Array | readonly (null | number | Uint8Array)[];

/** Runs statements; rows come back as arrays of column values, in SELECT order. */
export interface SqlQueries {
  /** Runs one statement; resolves with its rows (empty for statements without rows). Rejects with the engine's error. */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlValue[][]>;
  /** Runs one statement; resolves with the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** An open database: a file (SQLite) or a connection pool (PostgreSQL). */
export interface SqlDatabase extends SqlQueries {
  readonly engine: "sqlite" | "postgres";
  /** For messages: the file path, or the URL without its password. */
  readonly description: string;
  /**
   * Runs `work` inside one transaction that holds the database's write lock (SQLite BEGIN
   * IMMEDIATE); commits when it resolves, rolls back and rejects with its error when it rejects.
   */
  transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` soon after another connection commits a change. PostgreSQL LISTENs on `channel`
   * over a dedicated connection (each `vouch store` write NOTIFYs it); SQLite, which has no
   * notifications, reads `PRAGMA data_version` every SQLITE_CHANGE_POLL_MS (a counter in the shared
   * memory of the WAL, a microsecond a read, no I/O) and ignores `channel`. `onError` when that fails
   * (the listener is then closed; call listen again to retry). Resolves with a function that stops listening.
   */
  readonly listen: ((channel: string, onNotify: () => void, onError: (error: Error) => void) => Promise<() => Promise<void>>) | undefined;
  /** Closes the file or the pool; the database must not be used afterwards. */
  close(): Promise<void>;
}
