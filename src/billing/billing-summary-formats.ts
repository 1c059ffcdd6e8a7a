/**
 * `vouch billing summary --format table|csv|json`: the per-requestor rows of each billed responder
 * over one time window, for a person (table), a spreadsheet or invoicing system (csv), or a program
 * (json). Every format carries the same numbers.
 */
import { OCSP_ERROR_STATUSES, assertNever } from "../errors.ts";
import { formatSummary, summaryTotal, type BillingSummaryRow } from "./billing-summary.ts";

/** The output formats. */
export const SUMMARY_FORMATS = ["table", "csv", "json"] as const;
export type SummaryFormat = (typeof SUMMARY_FORMATS)[number];

/** The window counted: from `since` (inclusive) to `until` (exclusive; open when undefined). */
export interface SummaryWindow {
  readonly since: Date;
  readonly until: Date | undefined;
}

/** One responder's rows. */
export interface ResponderSummary {
  readonly responder: string;
  readonly sink: "file" | "postgres";
  readonly rows: readonly BillingSummaryRow[];
}

/** The outcome columns of the CSV, always all of them, so that every file has the same columns. */
const OUTCOMES = ["successful", ...OCSP_ERROR_STATUSES] as const;

/** The summaries in `format`, ending with a newline. */
export function formatSummaries(format: SummaryFormat, window: SummaryWindow, summaries: readonly ResponderSummary[]): string {
  switch (format) {
    case "table":
      return summaries.map((summary) => `responder ${summary.responder} (${summary.sink}), ${windowText(window)}\n${formatSummary(summary.rows)}`).join("\n");
    case "csv":
      return summaryCsv(summaries);
    case "json":
      return `${JSON.stringify(summaryJson(window, summaries), null, 2)}\n`;
    default:
      return assertNever(format);
  }
}

function windowText(window: SummaryWindow): string {
  return `since ${window.since.toISOString()}${window.until === undefined ? "" : `, until ${window.until.toISOString()}`}`;
}

/**
 * RFC 4180 CSV: a header, then one line per responder and requestor (anonymous: an empty cell), the
 * numbers, and a column per OCSP response status. No total line: a spreadsheet adds them up.
 */
function summaryCsv(summaries: readonly ResponderSummary[]): string {
  const header = ["responder", "requestor", "requests", "single_requests", "certificates", ...OUTCOMES];
  const lines = summaries.flatMap((summary) =>
    summary.rows.map((row) => [summary.responder, row.requestor ?? "", row.requests, row.singleRequests, row.certificates, ...OUTCOMES.map((outcome) => row.byOutcome[outcome] ?? 0)]),
  );
  return [header, ...lines].map((cells) => cells.map(csvCell).join(",")).join("\r\n").concat("\r\n");
}

/**
 * One CSV cell: quoted when it holds a comma, quote or line break (a DN often does). A requestor's
 * subject is chosen by whoever got the certificate: one starting with `=`, `+`, `-` or `@` is
 * prefixed with `'`, so that a spreadsheet shows it instead of running it as a formula.
 */
function csvCell(value: string | number): string {
  if (typeof value === "number") return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The JSON document: the window, then per responder its rows and total (requestor null when anonymous). */
function summaryJson(window: SummaryWindow, summaries: readonly ResponderSummary[]): unknown {
  return {
    since: window.since.toISOString(),
    until: window.until?.toISOString() ?? null,
    responders: summaries.map((summary) => ({
      responder: summary.responder,
      sink: summary.sink,
      requestors: summary.rows.map((row) => ({ requestor: row.requestor ?? null, requests: row.requests, singleRequests: row.singleRequests, certificates: row.certificates, byOutcome: row.byOutcome })),
      total: summaryTotal(summary.rows),
    })),
  };
}
