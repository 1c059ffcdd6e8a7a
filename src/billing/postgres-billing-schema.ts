import { ConfigError } from "../errors.ts";

/** The default billing table. */
export const DEFAULT_BILLING_TABLE = "vouch_billing";

/**
 * Table names Vouch accepts: lower-case, unquoted-safe, and short enough that the derived index
 * names (`<table>_requestor_time_idx`) stay within PostgreSQL's 63-byte identifiers.
 */
const BILLING_TABLE_PATTERN = /^[a-z_][a-z0-9_]{0,43}$/;

/** Throws ConfigError("table") unless `table` is a name Vouch may interpolate into SQL. */
export function checkBillingTable(table: string): string {
  if (typeof table !== "string" || !BILLING_TABLE_PATTERN.test(table)) {
    throw new ConfigError("table", "use 1 to 44 lower-case letters, digits and '_', not starting with a digit");
  }
  return table;
}

/**
 * The schema Vouch creates at start (idempotent), for the default table name:
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS vouch_billing (
 *   id              bigserial   PRIMARY KEY,
 *   time            timestamptz NOT NULL,  -- when the request arrived
 *   responder       text        NOT NULL,  -- logical responder name
 *   responder_url   text        NOT NULL,
 *   client_address  text        NOT NULL,
 *   requestor       text        NULL,      -- RFC 4514 subject: request signer, else TLS client
 *   tls_subject     text        NULL,      -- RFC 4514 subject of the TLS client certificate
 *   signer_subject  text        NULL,      -- RFC 4514 subject of the request signer
 *   authorized_by   text        NULL,      -- tls | signature | both; NULL without authorization or when refused
 *   outcome         text        NOT NULL,  -- successful | malformedRequest | internalError | tryLater | sigRequired | unauthorized
 *   source          text        NULL,      -- cache | forward | local; NULL for errors
 *   single_requests integer     NULL,      -- perRequest; NULL when perRequest is off
 *   certificates    jsonb       NULL       -- perCert: [{"issuerKeyHash","issuer","serial","status"}]; NULL when off
 * );
 * CREATE INDEX IF NOT EXISTS vouch_billing_time_idx ON vouch_billing (time);
 * CREATE INDEX IF NOT EXISTS vouch_billing_requestor_time_idx ON vouch_billing (requestor, time);
 * ```
 *
 * A table created before tls_subject, signer_subject and authorized_by existed (issue 12) gets them
 * added, NULL in its old rows; older Vouch versions keep writing to it (they name their columns).
 * Run inside the sink's advisory lock, so instances starting together add each column once.
 */
export function billingSchemaStatements(table: string): string[] {
  // Quoted although the pattern makes it safe unquoted: a table named `user` or `order` is legal.
  const name = checkBillingTable(table);
  return [
    `CREATE TABLE IF NOT EXISTS "${name}" (
  id              bigserial   PRIMARY KEY,
  time            timestamptz NOT NULL,
  responder       text        NOT NULL,
  responder_url   text        NOT NULL,
  client_address  text        NOT NULL,
  requestor       text        NULL,
  tls_subject     text        NULL,
  signer_subject  text        NULL,
  authorized_by   text        NULL,
  outcome         text        NOT NULL,
  source          text        NULL,
  single_requests integer     NULL,
  certificates    jsonb       NULL
)`,
    ...["tls_subject", "signer_subject", "authorized_by"].map((column) => `ALTER TABLE "${name}" ADD COLUMN IF NOT EXISTS ${column} text NULL`),
    `CREATE INDEX IF NOT EXISTS "${name}_time_idx" ON "${name}" (time)`,
    `CREATE INDEX IF NOT EXISTS "${name}_requestor_time_idx" ON "${name}" (requestor, time)`,
  ];
}

/**
 * One INSERT for a whole batch, from ONE json parameter: an array with an object per record, keys
 * as in `BillingInsertRow`. PostgreSQL parses one text value instead of nine arrays, and the client
 * sends a string instead of escaping every array element.
 */
export function billingInsertStatement(table: string): string {
  const name = checkBillingTable(table);
  return `INSERT INTO "${name}" (time, responder, responder_url, client_address, requestor, tls_subject, signer_subject, authorized_by, outcome, source, single_requests, certificates)
SELECT t, r, u, a, q, l, g, z, o, s, n, c FROM json_to_recordset($1::json)
  AS b(t timestamptz, r text, u text, a text, q text, l text, g text, z text, o text, s text, n integer, c jsonb)`;
}

/**
 * An INSERT of no row: it fails as a real one would when the table is gone or renamed, the role may
 * not insert, or the database is read-only, and it writes nothing (the sink's readiness probe).
 */
export function billingProbeStatement(table: string): string {
  const name = checkBillingTable(table);
  return `INSERT INTO "${name}" (time, responder, responder_url, client_address, outcome) SELECT now(), '', '', '', '' WHERE false`;
}

/** One record's object in `billingInsertStatement`'s parameter: short keys, nulls for absent values. */
export interface BillingInsertRow {
  /** time */
  t: string;
  /** responder */
  r: string;
  /** responder_url */
  u: string;
  /** client_address */
  a: string;
  /** requestor */
  q: string | null;
  /** tls_subject */
  l: string | null;
  /** signer_subject */
  g: string | null;
  /** authorized_by */
  z: string | null;
  /** outcome */
  o: string;
  /** source */
  s: string | null;
  /** single_requests */
  n: number | null;
  /** certificates */
  c: { issuerKeyHash: string; issuer: string | null; serial: string; status: string }[] | null;
}
