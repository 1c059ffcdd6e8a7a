/**
 * What the `vouch store` commands (store.ts) do, loaded when one runs.
 * `vouch store …`: manage the SQL status store (docs/sql-store.md). Every command names the store
 * with `--database` (an SQLite file or a postgres:// URL, plus `--schema` for PostgreSQL) and the
 * CA with `--issuer` (its certificate, PEM or DER). User errors throw ConfigError: main.ts prints
 * one line and exits 2.
 */
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { systemClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { CRL_REASON_CODES, crlReasonFromCode } from "../ocsp/types.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { readCertificateFile } from "../certificate-file.ts";
import { serialText, serialOctetsFromHex } from "../status/serial-key.ts";
import { importCrlFile } from "../status/sql/import-crl.ts";
import { importIndexFile } from "../status/sql/import-index.ts";
import type { ImportResult } from "../status/sql/import-rows.ts";
import { storedSerial } from "../status/sql/import-rows.ts";
import { issuerIdentity, type IssuerIdentity } from "../status/sql/issuer-identity.ts";
import { isPostgresUrl } from "../status/sql/database-url.ts";
import { currentVersion } from "../status/sql/migrations.ts";
import { openStoreDatabase } from "../status/sql/open-database.ts";
import type { SqlDatabase, SqlQueries } from "../status/sql/sql-database.ts";
import { ensureIssuer, findIssuer, issuerStats, readCertificate, setStatus, writeChanges } from "../status/sql/status-store.ts";
import { progress } from "./progress.ts";
import { REASONS, type StoreOptions } from "./store.ts";

/** `import-index` and `import-crl`. */
export const importFile = (options: StoreOptions, file: string, kind: "index" | "crl"): Promise<void> => withStore(options, (db, issuer) => runImport(db, issuer, file, kind), CREATES);
export const add = (options: StoreOptions, file: string): Promise<void> => withStore(options, (db, issuer) => runAdd(db, issuer, file), CREATES);
export const revoke = (options: StoreOptions & { reason: string; time?: string; invalidityDate?: string }, serial: string): Promise<void> =>
  withStore(options, (db, issuer) => runRevoke(db, issuer, serial, options));
export const unrevoke = (options: StoreOptions, serial: string): Promise<void> => withStore(options, (db, issuer) => runUnrevoke(db, issuer, serial));
export const show = (options: StoreOptions, serial: string): Promise<void> => withStore(options, (db, issuer) => runShow(db, issuer, serial));
export const stats = (options: Omit<StoreOptions, "issuer"> & { issuer?: string }): Promise<void> => withStore(options, (db, issuer) => runStats(db, issuer));

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** Passed by the commands that may create the store (imports and add); the others need one that exists. */
const CREATES = true;

async function withStore(
  options: { database: string; schema: string; issuer?: string | undefined },
  work: (db: SqlDatabase, issuer: IssuerIdentity | undefined) => Promise<void>,
  creates = false,
): Promise<void> {
  // Opening an SQLite file creates it: a mistyped path would show an empty store ("not issued", exit 0).
  if (!creates && !isPostgresUrl(options.database) && !existsSync(options.database)) {
    throw new ConfigError("--database", `${options.database}: no such store (only import-index, import-crl and add create one)`);
  }
  const issuer = options.issuer === undefined ? undefined : issuerIdentity(await readCertificateFile(options.issuer, "--issuer"), "--issuer");
  let db: SqlDatabase;
  try {
    db = await openStoreDatabase({ database: options.database, schema: options.schema, clock: systemClock });
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError(`--${error.field}`, error.message, { cause: error }) : error;
  }
  try {
    await work(db, issuer);
  } finally {
    await db.close();
  }
}

async function runImport(db: SqlDatabase, issuer: IssuerIdentity | undefined, file: string, kind: "index" | "crl"): Promise<void> {
  const report = progress(`importing ${file}`);
  let result: ImportResult;
  try {
    const update = (done: number, total: number): void => report.update(done, total);
    result = kind === "index" ? await importIndexFile(db, issuer!, file, systemClock.now(), update) : await importCrlFile(db, issuer!, file, systemClock.now(), update);
  } catch (error) {
    // "index.txt: line 3: …" reads better than "index.txt: file: line 3: …".
    if (error instanceof ConfigError && error.field === "file") throw new ConfigError("", `${error.message}; nothing was imported`, { file, cause: error });
    throw error;
  } finally {
    report.finish();
  }
  const skipped = result.skipped > 0 ? `, ${result.skipped} skipped (removeFromCRL)` : "";
  out(`${file}: ${result.rows} certificates read, ${result.changed} added or changed${skipped}`);
  await runStats(db, issuer);
}

async function runAdd(db: SqlDatabase, issuer: IssuerIdentity | undefined, file: string): Promise<void> {
  const der = await readCertificateFile(file, "certificate");
  const certificate = new X509Certificate(der);
  const ca = new X509Certificate(issuer!.certificate);
  if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) throw new ConfigError("", "was not issued by the --issuer CA", { file });
  const serial = storedSerial(certificateFields(der).serialNumber);
  const added = await writeChanges(db, systemClock.now(), async (change) => {
    const issuerId = await ensureIssuer(change, issuer!);
    return change.tx.run(
      `INSERT INTO certificates (issuer_id, serial, status, seq, updated_at) VALUES ($1, $2, 'good', $3, $4) ON CONFLICT (issuer_id, serial) DO NOTHING`,
      [issuerId, serial, change.seq, change.now],
    );
  });
  out(added > 0 ? `added ${serialText(serial)} (good)` : `${serialText(serial)} was already listed; unchanged`);
}

async function runRevoke(db: SqlDatabase, issuer: IssuerIdentity | undefined, text: string, options: { reason: string; time?: string; invalidityDate?: string }): Promise<void> {
  const serial = parseSerial(text);
  const reason = REASONS.find((name) => name.toLowerCase() === options.reason.toLowerCase());
  if (reason === undefined) throw new ConfigError("--reason", `"${options.reason}" is not one of ${REASONS.join(", ")}`);
  const now = systemClock.now();
  const revokedAt = options.time === undefined ? now : parseTime(options.time, "--time", now);
  const invalidityDate = options.invalidityDate === undefined ? undefined : parseTime(options.invalidityDate, "--invalidity-date", now);
  await writeChanges(db, now, async (change) => {
    const issuerId = await requireIssuer(change.tx, issuer!);
    if (!(await setStatus(change, issuerId, serial, { revokedAt, reason: CRL_REASON_CODES[reason], invalidityDate }))) throw notListed(serial);
  });
  out(`revoked ${serialText(serial)} at ${new Date(revokedAt).toISOString()} (${reason})`);
}

async function runUnrevoke(db: SqlDatabase, issuer: IssuerIdentity | undefined, text: string): Promise<void> {
  const serial = parseSerial(text);
  const issuerId = await requireIssuer(db, issuer!);
  const before = await readCertificate(db, issuerId, serial);
  if (before === undefined) throw notListed(serial);
  if (before.revokedAt === undefined) {
    out(`${serialText(serial)} is not revoked; unchanged`);
    return;
  }
  await writeChanges(db, systemClock.now(), (change) => setStatus(change, issuerId, serial, undefined));
  out(`${serialText(serial)} is good again`);
}

async function runShow(db: SqlDatabase, issuer: IssuerIdentity | undefined, text: string): Promise<void> {
  const serial = parseSerial(text);
  const issuerId = await findIssuer(db, issuer!.keySha256);
  const row = issuerId === undefined ? undefined : await readCertificate(db, issuerId, serial);
  const lines = [`serial:     ${serialText(serial)}`, `issuer:     ${issuer!.subject}`];
  if (row === undefined) {
    lines.push("status:     not issued (not in the store)");
  } else {
    lines.push(`status:     ${row.revokedAt === undefined ? "good" : "revoked"}`);
    if (row.revokedAt !== undefined) lines.push(`revoked at: ${new Date(row.revokedAt).toISOString()}`);
    if (row.reason !== undefined) lines.push(`reason:     ${crlReasonFromCode(row.reason) ?? row.reason}`);
    if (row.invalidityDate !== undefined) lines.push(`invalidity: ${new Date(row.invalidityDate).toISOString()}`);
    lines.push(`changed:    ${new Date(row.updatedAt).toISOString()} (change ${row.seq})`);
  }
  out(lines.join("\n"));
}

async function runStats(db: SqlDatabase, issuer: IssuerIdentity | undefined): Promise<void> {
  const issuerId = issuer === undefined ? undefined : await findIssuer(db, issuer.keySha256);
  out(`store ${db.description} (${db.engine}, schema version ${await currentVersion(db)})`);
  if (issuer !== undefined && issuerId === undefined) {
    out(`${issuer.subject}: no certificates`);
    return;
  }
  for (const stats of await issuerStats(db, issuerId)) {
    const last = stats.lastChange === undefined ? "" : `, last change ${new Date(stats.lastChange).toISOString()}`;
    out(`${stats.subject} (key SHA-256 ${stats.keySha256.toString("hex")}): ${stats.certificates} certificates, ${stats.revoked} revoked${last}`);
  }
}

async function requireIssuer(db: SqlQueries, issuer: IssuerIdentity): Promise<number> {
  const id = await findIssuer(db, issuer.keySha256);
  if (id === undefined) throw new ConfigError("--issuer", `the store lists no certificates of ${issuer.subject}; import or add some first`);
  return id;
}

function notListed(serial: Buffer): ConfigError {
  return new ConfigError("serial", `${serialText(serial)} is not listed for this issuer (import or add the certificate first)`);
}

/** A serial as operators write it: hex, any case, optional 0x prefix or colons between octets. */
function parseSerial(text: string): Buffer {
  const octets = serialOctetsFromHex(text.replace(/^0x/i, "").replaceAll(":", ""));
  if (octets === undefined || octets.length > 255) throw new ConfigError("serial", `"${text}" is not a hexadecimal serial number`);
  return storedSerial(octets);
}

/** An ISO 8601 time, not in the future (a minute of clock skew allowed). */
function parseTime(text: string, field: string, now: number): number {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new ConfigError(field, `"${text}" is not an ISO 8601 time (e.g. 2026-11-01T12:00:00Z)`);
  if (time > now + 60_000) throw new ConfigError(field, `${new Date(time).toISOString()} is in the future`);
  return time;
}
