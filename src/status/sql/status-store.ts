/**
 * The store's reads and writes, over either engine (see migrations.ts for the tables). Writers
 * (`vouch store …`) call `writeChanges`, which takes the next change number first; the sql source
 * loads whole issuers on a thread of its own (sqlite-table-read.ts, postgres-table-read.ts) and
 * then reads only the rows changed since.
 */
import type { SqlDatabase, SqlQueries, SqlValue } from "./sql-database.ts";
import type { IssuerIdentity } from "./issuer-identity.ts";

/** One certificate's status as stored. Times are ms since the epoch; `reason` is a CRLReason code. */
export interface CertificateRow {
  /** The serial's minimal two's complement octets. */
  readonly serial: Uint8Array;
  /** `undefined`: the certificate is good. */
  readonly revokedAt: number | undefined;
  readonly reason: number | undefined;
  readonly invalidityDate: number | undefined;
}

/** A stored row with the change number and time that last touched it. */
export interface StoredCertificate extends CertificateRow {
  readonly seq: number;
  readonly updatedAt: number;
}

/** A transaction that changes the store: every row it writes carries `seq`. */
export interface ChangeContext {
  readonly tx: SqlQueries;
  readonly engine: SqlDatabase["engine"];
  /** The change number this transaction stamps on the rows it writes. */
  readonly seq: number;
  /** Milliseconds since the epoch, stamped as `updated_at`. */
  readonly now: number;
}

/** The NOTIFY channel writers signal on, for the store in PostgreSQL schema `schema`. */
export function changeChannel(schema: string): string {
  return `vouch_store_${schema}`;
}

/**
 * Runs `work` in one transaction that first takes the next change number (serializing writers, so
 * changes commit in number order) and, on PostgreSQL, NOTIFYs the sql sources when it commits.
 * Rejects with `work`'s error after rolling everything back.
 */
export async function writeChanges<T>(db: SqlDatabase, now: number, work: (change: ChangeContext) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query("UPDATE store_state SET seq = seq + 1 WHERE id = 1 RETURNING seq");
    const result = await work({ tx, engine: db.engine, seq: Number(row?.[0]), now });
    if (db.engine === "postgres") await tx.query("SELECT pg_notify('vouch_store_' || current_schema(), '')");
    return result;
  });
}

/** The issuer's id, or `undefined` when the store has never recorded it. */
export async function findIssuer(db: SqlQueries, keySha256: Buffer): Promise<number | undefined> {
  const [row] = await db.query("SELECT id FROM issuers WHERE key_sha256 = $1", [keySha256]);
  return row === undefined ? undefined : Number(row[0]);
}

/** The issuer's id, recording the issuer first when it is new. */
export async function ensureIssuer(change: ChangeContext, issuer: IssuerIdentity): Promise<number> {
  const known = await findIssuer(change.tx, issuer.keySha256);
  if (known !== undefined) return known;
  const [row] = await change.tx.query("INSERT INTO issuers (key_sha256, subject, certificate, created_at) VALUES ($1, $2, $3, $4) RETURNING id", [
    issuer.keySha256,
    issuer.subject,
    issuer.certificate,
    change.now,
  ]);
  return Number(row?.[0]);
}

const CHANGED_SQLITE = `certificates.status <> 'revoked' OR certificates.revoked_at IS NOT excluded.revoked_at
  OR certificates.reason IS NOT excluded.reason OR certificates.invalidity_date IS NOT excluded.invalidity_date`;
const CHANGED_POSTGRES = `certificates.status <> 'revoked' OR certificates.revoked_at IS DISTINCT FROM excluded.revoked_at
  OR certificates.reason IS DISTINCT FROM excluded.reason OR certificates.invalidity_date IS DISTINCT FROM excluded.invalidity_date`;
const UPDATE_SET = `status = excluded.status, revoked_at = excluded.revoked_at, reason = excluded.reason,
  invalidity_date = excluded.invalidity_date, seq = excluded.seq, updated_at = excluded.updated_at`;

const IMPORT_SQLITE = `INSERT INTO certificates (issuer_id, serial, status, revoked_at, reason, invalidity_date, seq, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (issuer_id, serial) DO UPDATE SET ${UPDATE_SET}
  WHERE excluded.status = 'revoked' AND (${CHANGED_SQLITE})`;
const IMPORT_POSTGRES = `INSERT INTO certificates (issuer_id, serial, status, revoked_at, reason, invalidity_date, seq, updated_at)
  SELECT $1, t.serial, CASE WHEN t.revoked_at IS NULL THEN 'good' ELSE 'revoked' END, t.revoked_at, t.reason, t.invalidity_date, $2, $3
  FROM unnest($4::bytea[], $5::bigint[], $6::smallint[], $7::bigint[]) AS t (serial, revoked_at, reason, invalidity_date)
  ON CONFLICT (issuer_id, serial) DO UPDATE SET ${UPDATE_SET}
  WHERE excluded.status = 'revoked' AND (${CHANGED_POSTGRES})`;

const orNull = (value: number | undefined): number | null => value ?? null;

/**
 * Imports rows (no serial twice in one call): a new serial is inserted as given; a listed serial
 * becomes revoked (or gets the given time, reason and invalidity date) when its row says revoked,
 * and is left alone when its row says good, because an import never un-revokes (only `unrevoke`
 * does). Resolves with the number of rows inserted or changed; unchanged rows keep their change
 * number, so re-running an import sends nothing to running sources.
 */
export async function importRows(change: ChangeContext, issuerId: number, rows: readonly CertificateRow[]): Promise<number> {
  const { tx, seq, now } = change;
  if (change.engine === "postgres") {
    return tx.run(IMPORT_POSTGRES, [
      issuerId,
      seq,
      now,
      rows.map((row) => Buffer.from(row.serial)),
      rows.map((row) => orNull(row.revokedAt)),
      rows.map((row) => orNull(row.reason)),
      rows.map((row) => orNull(row.invalidityDate)),
    ]);
  }
  let changed = 0;
  for (const row of rows) {
    const status = row.revokedAt === undefined ? "good" : "revoked";
    changed += await tx.run(IMPORT_SQLITE, [issuerId, row.serial, status, orNull(row.revokedAt), orNull(row.reason), orNull(row.invalidityDate), seq, now]);
  }
  return changed;
}

/** Sets a listed serial revoked (`revocation` given) or good; resolves with false when the serial is not listed. */
export async function setStatus(change: ChangeContext, issuerId: number, serial: Uint8Array, revocation: Omit<CertificateRow, "serial"> | undefined): Promise<boolean> {
  const changed = await change.tx.run(
    `UPDATE certificates SET status = $3, revoked_at = $4, reason = $5, invalidity_date = $6, seq = $7, updated_at = $8
     WHERE issuer_id = $1 AND serial = $2`,
    [
      issuerId,
      serial,
      revocation?.revokedAt === undefined ? "good" : "revoked",
      orNull(revocation?.revokedAt),
      orNull(revocation?.reason),
      orNull(revocation?.invalidityDate),
      change.seq,
      change.now,
    ],
  );
  return changed > 0;
}

/** One stored certificate, or `undefined` when the serial is not listed for the issuer. */
export async function readCertificate(db: SqlQueries, issuerId: number, serial: Uint8Array): Promise<StoredCertificate | undefined> {
  const [row] = await db.query("SELECT serial, revoked_at, reason, invalidity_date, seq, updated_at FROM certificates WHERE issuer_id = $1 AND serial = $2", [
    issuerId,
    serial,
  ]);
  return row === undefined ? undefined : { ...certificateRow(row), seq: Number(row[4]), updatedAt: Number(row[5]) };
}

/** Up to `limit` of the issuer's rows changed after change number `after`, with their numbers and change times. */
export async function readChanges(db: SqlQueries, issuerId: number, after: number, limit: number): Promise<StoredCertificate[]> {
  const rows = await db.query("SELECT serial, revoked_at, reason, invalidity_date, seq, updated_at FROM certificates WHERE issuer_id = $1 AND seq > $2 LIMIT $3", [issuerId, after, limit]);
  return rows.map((row) => ({ ...certificateRow(row), seq: Number(row[4]), updatedAt: Number(row[5]) }));
}

/** When the newest of the issuer's rows changed after change number `after` was changed (ms), undefined when none was. */
export async function lastChangeAfter(db: SqlQueries, issuerId: number, after: number): Promise<number | undefined> {
  const [row] = await db.query("SELECT max(updated_at) FROM certificates WHERE issuer_id = $1 AND seq > $2", [issuerId, after]);
  return row?.[0] === null || row?.[0] === undefined ? undefined : Number(row[0]);
}

/** Per-issuer totals for `vouch store stats`. */
export interface IssuerStats {
  readonly subject: string;
  readonly keySha256: Buffer;
  readonly certificates: number;
  readonly revoked: number;
  /** ms since the epoch of the last change, `undefined` when nothing is listed. */
  readonly lastChange: number | undefined;
}

/** Totals for every issuer in the store (or only `issuerId`), ordered by subject. */
export async function issuerStats(db: SqlQueries, issuerId?: number): Promise<IssuerStats[]> {
  const rows = await db.query(
    `SELECT i.subject, i.key_sha256, count(c.serial), count(c.revoked_at), max(c.updated_at)
     FROM issuers i LEFT JOIN certificates c ON c.issuer_id = i.id
     WHERE $1 = 0 OR i.id = $1 GROUP BY i.id, i.subject, i.key_sha256 ORDER BY i.subject`,
    [issuerId ?? 0],
  );
  return rows.map((row) => ({
    subject: String(row[0]),
    keySha256: Buffer.from(row[1] as Uint8Array),
    certificates: Number(row[2]),
    revoked: Number(row[3]),
    lastChange: row[4] === null ? undefined : Number(row[4]),
  }));
}

function certificateRow(row: SqlValue[]): CertificateRow {
  const optional = (value: SqlValue | undefined): number | undefined => (value === null || value === undefined ? undefined : Number(value));
  return { serial: row[0] as Uint8Array, revokedAt: optional(row[1]), reason: optional(row[2]), invalidityDate: optional(row[3]) };
}
