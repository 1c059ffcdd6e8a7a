import pg from "pg";
import type { BillingTally } from "./billing-summary.ts";
import { checkBillingTable } from "./postgres-billing-schema.ts";

/**
 * Streams per-(requestor, outcome) tallies of the rows at or after `since` and before `until` (no end
 * when undefined), grouped by PostgreSQL (the (requestor, time) index serves it): the records
 * themselves never leave the server.
 */
export async function* readPostgresBilling(connectionString: string, table: string, since: Date, until?: Date): AsyncGenerator<BillingTally> {
  const name = checkBillingTable(table);
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000, application_name: "vouch-billing-summary" });
  await client.connect();
  try {
    const result = await client.query<{ requestor: string | null; outcome: string; requests: string; single_requests: string; certificates: string }>(
      `SELECT requestor, outcome,
              count(*) AS requests,
              coalesce(sum(single_requests), 0) AS single_requests,
              coalesce(sum(jsonb_array_length(certificates)), 0) AS certificates
         FROM "${name}"
        WHERE time >= $1 AND ($2::timestamptz IS NULL OR time < $2)
        GROUP BY requestor, outcome`,
      [since.toISOString(), until?.toISOString() ?? null],
    );
    // count and sum come back as int8/numeric strings; a billing period fits a double exactly.
    for (const row of result.rows) {
      yield {
        requestor: row.requestor ?? undefined,
        outcome: row.outcome,
        requests: Number(row.requests),
        singleRequests: Number(row.single_requests),
        certificates: Number(row.certificates),
      };
    }
  } finally {
    await client.end();
  }
}
