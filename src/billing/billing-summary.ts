import { ConfigError } from "../errors.ts";
import { DEFAULT_BILLING_TABLE, checkBillingTable } from "./postgres-billing-schema.ts";
import { readFileBilling } from "./read-file-billing.ts";
import { readPostgresBilling } from "./read-postgres-billing.ts";


/**
 * A partial count for one requestor and outcome: a reader yields these (one per record from the
 * file, one per group from SQL) and `summarize` adds them up, so both stores share one summary.
 */
export interface BillingTally {
  readonly requestor: string | undefined;
  readonly outcome: string;
  readonly requests: number;
  readonly singleRequests: number;
  readonly certificates: number;
}

/** Streams the tallies of every record at or after `since` and before `until` (no end when undefined). */
export type BillingReader = (since: Date, until?: Date) => AsyncIterable<BillingTally>;

/** One line of `vouch billing summary`. */
export interface BillingSummaryRow {
  /** RFC 4514 subject; undefined for anonymous requests. */
  readonly requestor: string | undefined;
  /** Records (requests answered, errors included). */
  readonly requests: number;
  /** Sum of `perRequest` counts (0 where perRequest was off). */
  readonly singleRequests: number;
  /** Sum of `perCert` certificates (0 where perCert was off). */
  readonly certificates: number;
  /** Requests per outcome: `{ successful: 10, unauthorized: 2 }`. */
  readonly byOutcome: Readonly<Record<string, number>>;
}

/**
 * Per-requestor totals from `since` (inclusive) to `until` (exclusive; no end when undefined), busiest
 * requestor first (then by name, anonymous last).
 */
export async function summarize(reader: BillingReader, since: Date, until?: Date): Promise<BillingSummaryRow[]> {
  if (Number.isNaN(since.getTime())) throw new RangeError("since is not a valid date");
  if (until !== undefined && Number.isNaN(until.getTime())) throw new RangeError("until is not a valid date");
  const rows = new Map<string | undefined, { requests: number; singleRequests: number; certificates: number; byOutcome: Record<string, number> }>();
  for await (const tally of reader(since, until)) {
    let row = rows.get(tally.requestor);
    if (row === undefined) rows.set(tally.requestor, (row = { requests: 0, singleRequests: 0, certificates: 0, byOutcome: {} }));
    row.requests += tally.requests;
    row.singleRequests += tally.singleRequests;
    row.certificates += tally.certificates;
    row.byOutcome[tally.outcome] = (row.byOutcome[tally.outcome] ?? 0) + tally.requests;
  }
  return [...rows]
    .map(([requestor, row]) => ({ requestor, ...row }))
    .sort((a, b) => b.requests - a.requests || compareRequestors(a.requestor, b.requestor));
}

function compareRequestors(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}

/** What an anonymous requestor is shown as. */
const ANONYMOUS_REQUESTOR = "(anonymous)";

/**
 * A plain table, columns aligned with spaces, numbers right-aligned, a TOTAL line at the end:
 *
 * ```
 * REQUESTOR         REQUESTS  SINGLE  CERTS  OUTCOMES
 * CN=alice,O=Acme        120     130      0  successful=118 unauthorized=2
 * ```
 */
export function formatSummary(rows: readonly BillingSummaryRow[]): string {
  const total = summaryTotal(rows);
  const cells = (name: string, row: Omit<BillingSummaryRow, "requestor">): string[] => [
    name,
    String(row.requests),
    String(row.singleRequests),
    String(row.certificates),
    Object.keys(row.byOutcome)
      .sort()
      .map((outcome) => `${outcome}=${row.byOutcome[outcome]}`)
      .join(" "),
  ];
  const table = [
    ["REQUESTOR", "REQUESTS", "SINGLE", "CERTS", "OUTCOMES"],
    ...rows.map((row) => cells(row.requestor ?? ANONYMOUS_REQUESTOR, row)),
    cells("TOTAL", total),
  ];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...table.map((line) => line[column]!.length)));
  return table
    .map((line) =>
      line
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : column < 4 ? cell.padStart(widths[column]!) : cell))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

/** The rows added up: the TOTAL line. */
export function summaryTotal(rows: readonly BillingSummaryRow[]): Omit<BillingSummaryRow, "requestor"> {
  return rows.reduce(
    (sum, row) => {
      for (const [outcome, count] of Object.entries(row.byOutcome)) sum.byOutcome[outcome] = (sum.byOutcome[outcome] ?? 0) + count;
      return { ...sum, requests: sum.requests + row.requests, singleRequests: sum.singleRequests + row.singleRequests, certificates: sum.certificates + row.certificates };
    },
    { requests: 0, singleRequests: 0, certificates: 0, byOutcome: {} as Record<string, number> },
  );
}

/** The billing settings of a responder, as the configuration holds them (`responders[].billing`). */
export interface BillingStore {
  readonly sink: "file" | "postgres";
  readonly directory?: string | undefined;
  readonly connectionString?: string | undefined;
  readonly table?: string | undefined;
}

/** The reader for a responder's billing store: what `vouch billing summary` passes to `summarize`. */
export function billingReader(store: BillingStore): BillingReader {
  if (store.sink === "file") {
    const { directory } = store;
    if (directory === undefined) throw new ConfigError("directory", "the file sink needs a directory");
    return (since, until) => readFileBilling(directory, since, { until });
  }
  const { connectionString } = store;
  if (connectionString === undefined) throw new ConfigError("connectionString", "the postgres sink needs a connectionString");
  const table = checkBillingTable(store.table ?? DEFAULT_BILLING_TABLE);
  return (since, until) => readPostgresBilling(connectionString, table, since, until);
}

export { readFileBilling, readFileBillingRecords } from "./read-file-billing.ts";
export { readPostgresBilling } from "./read-postgres-billing.ts";
