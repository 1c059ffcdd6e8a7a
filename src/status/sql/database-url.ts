/** True when a `database` setting names a PostgreSQL server (`postgres://`, `postgresql://`) rather than an SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(database);
}
