/** True when a `database` setting names a PostgreSQL server (`postgres://`, `postgresql://`) rather than an SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(database);
}

/** Schema names Vouch accepts: plain lower-case identifiers that need no quoting, short enough for a NOTIFY channel name. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** A PostgreSQL URL fit for messages: its password, if any, masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/** How messages name the store in a `database` setting: the SQLite file, or the URL without its password. */
export function describeDatabase(database: string): string {
  return isPostgresUrl(database) ? redactUrl(database) : database;
}
