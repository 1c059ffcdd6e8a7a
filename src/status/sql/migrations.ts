/**
 * The store's schema, as ordered migrations that Vouch applies itself: every process that opens a
 * store (`vouch serve`, `vouch store …`) first brings it up to the newest version it knows, inside
 * one transaction holding the write lock (PostgreSQL: also an advisory lock, so two instances
 * starting together apply each migration once). `schema_version` lists the versions applied.
 * A store newer than this Vouch is refused rather than misread. Migrations are append-only: a
 * released one is never edited; a change is a new entry.
 *
 * Tables (version 1):
 * - `issuers`: one row per CA, identified by `key_sha256`, the SHA-256 of the CA certificate's
 *   subjectPublicKey BIT STRING value: the issuerKeyHash of a SHA-256 CertID (RFC 6960 §4.1.1), so
 *   it survives a CA certificate's renewal with the same key and reads like Vouch's logs.
 * - `certificates`: every certificate the CA issued, by serial (the INTEGER's minimal two's
 *   complement octets, as in a CertID), with `status` good/revoked, `revoked_at`, `reason` (the
 *   RFC 5280 CRLReason code, NULL for none), `invalidity_date` (times in ms since the epoch).
 *   A serial absent from this table was not issued (SPEC §4 non-issued policy).
 * - `store_state`: one row whose `seq` counts committed changes. Every writing transaction
 *   increments it first (which also serializes writers, so changes commit in `seq` order) and
 *   stamps the rows it changes with the new value; readers fetch `seq > last seen` to catch up.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { SqlDatabase, SqlQueries } from "./sql-database.ts";

/** One schema step, with its statements for each engine. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

/** The column types the engines spell differently. */
interface ColumnTypes {
  /** An issuer's id, generated. */
  readonly id: string;
  readonly bytes: string;
  /** Milliseconds since the epoch, and change numbers. */
  readonly bigint: string;
  readonly smallint: string;
  /** What ends a CREATE TABLE of a table keyed by its primary key. */
  readonly keyed: string;
}

const SQLITE_TYPES: ColumnTypes = { id: "INTEGER PRIMARY KEY", bytes: "BLOB", bigint: "INTEGER", smallint: "INTEGER", keyed: " WITHOUT ROWID" };
const POSTGRES_TYPES: ColumnTypes = { id: "INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY", bytes: "BYTEA", bigint: "BIGINT", smallint: "SMALLINT", keyed: "" };

/** Version 1, in one engine's types. */
function version1(types: ColumnTypes): string[] {
  return [
    `CREATE TABLE issuers (
        id ${types.id},
        key_sha256 ${types.bytes} NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        certificate ${types.bytes} NOT NULL,
        created_at ${types.bigint} NOT NULL)`,
    `CREATE TABLE certificates (
        issuer_id INTEGER NOT NULL REFERENCES issuers (id),
        serial ${types.bytes} NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('good', 'revoked')),
        revoked_at ${types.bigint},
        reason ${types.smallint} CHECK (reason BETWEEN 0 AND 10 AND reason <> 7),
        invalidity_date ${types.bigint},
        seq ${types.bigint} NOT NULL,
        updated_at ${types.bigint} NOT NULL,
        PRIMARY KEY (issuer_id, serial),
        CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
        CHECK (status = 'revoked' OR (reason IS NULL AND invalidity_date IS NULL)))${types.keyed}`,
    "CREATE INDEX certificates_changes ON certificates (issuer_id, seq)",
    `CREATE TABLE store_state (id INTEGER PRIMARY KEY CHECK (id = 1), seq ${types.bigint} NOT NULL)`,
    "INSERT INTO store_state (id, seq) VALUES (1, 0)",
  ];
}

/**
 * Every migration, oldest first; versions are 1, 2, 3, … without gaps. A migration's statements
 * are written once with the engines' types filled in, so the two stores cannot drift apart.
 */
const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "issuers, certificates by serial, change sequence", sqlite: version1(SQLITE_TYPES), postgres: version1(POSTGRES_TYPES) },
];

/** The newest schema version this Vouch knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Applies the migrations `db` lacks, in order, in one transaction; resolves with the version the
 * store now has. Rejects with ConfigError("database") when the store's version is newer than
 * SCHEMA_VERSION (written by a newer Vouch), and with the engine's error when a statement fails
 * (nothing is applied then). `clock` stamps `applied_at`.
 */
export async function migrate(db: SqlDatabase, clock: Clock, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  return db.transaction(async (tx) => {
    if (db.engine === "postgres") await tx.query("SELECT pg_advisory_xact_lock(hashtext('vouch-store:' || current_schema()))");
    await tx.run(`CREATE TABLE IF NOT EXISTS schema_version (
      version INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at BIGINT NOT NULL)`);
    const current = await currentVersion(tx);
    const newest = migrations.length;
    if (current > newest) {
      throw new ConfigError("database", `the store in ${db.description} has schema version ${current}, newer than this Vouch knows (${newest}); upgrade Vouch`);
    }
    for (const migration of migrations.slice(current)) {
      for (const statement of db.engine === "sqlite" ? migration.sqlite : migration.postgres) await tx.run(statement);
      await tx.run("INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)", [migration.version, migration.description, clock.now()]);
    }
    return Math.max(current, newest);
  });
}

/** The highest version in `schema_version` (0 for a fresh store). */
export async function currentVersion(db: SqlQueries): Promise<number> {
  const [row] = await db.query("SELECT coalesce(max(version), 0) FROM schema_version");
  return Number(row?.[0] ?? 0);
}
