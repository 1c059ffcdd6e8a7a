import pg from "pg";
import type { BilledCertificate, BillingRecord } from "../billing-sink.ts";

/** The test database (trust auth on this machine); VOUCH_TEST_DATABASE_URL overrides it. */
export const TEST_DATABASE_URL = process.env["VOUCH_TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

/** Runs one statement on a short-lived connection. */
export async function sql<Row extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

interface BillingRow {
  time: Date;
  responder: string;
  responder_url: string;
  client_address: string;
  requestor: string | null;
  tls_subject: string | null;
  signer_subject: string | null;
  authorized_by: string | null;
  outcome: string;
  source: string | null;
  single_requests: number | null;
  certificates: { issuerKeyHash: string; issuer: string | null; serial: string; status: BilledCertificate["status"] }[] | null;
}

/** Every row of a billing table as BillingRecords, in insertion order. */
export async function readPostgresRecords(table: string): Promise<BillingRecord[]> {
  const rows = await sql<BillingRow>(`SELECT * FROM "${table}" ORDER BY id`);
  return rows.map((row) => ({
    time: row.time,
    responder: row.responder,
    responderUrl: row.responder_url,
    clientAddress: row.client_address,
    requestor: row.requestor ?? undefined,
    tlsSubject: row.tls_subject ?? undefined,
    signerSubject: row.signer_subject ?? undefined,
    authorizedBy: (row.authorized_by ?? undefined) as BillingRecord["authorizedBy"],
    outcome: row.outcome as BillingRecord["outcome"],
    source: (row.source ?? undefined) as BillingRecord["source"],
    singleRequests: row.single_requests ?? undefined,
    certificates: row.certificates?.map((certificate) => ({ ...certificate, issuer: certificate.issuer ?? undefined })),
  }));
}

/** Drops the test tables this process created (names starting with `prefix`). */
export async function dropTables(prefix: string): Promise<void> {
  const rows = await sql<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)", [prefix]);
  for (const { tablename } of rows) await sql(`DROP TABLE IF EXISTS "${tablename}"`);
}
