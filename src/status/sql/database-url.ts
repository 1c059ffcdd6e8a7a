/** True when a `database` setting names a PostgreSQL server (`postgres://`, `postgresql://`) rather than an SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(database);
}

/** Schema names Vouch accepts: plain lower-case identifiers that need no quoting, short enough for a NOTIFY channel name. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;
