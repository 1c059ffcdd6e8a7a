import { SUMMARY_FORMATS, formatSummaries } from "../billing/billing-summary-formats.ts";
import { billingReader, summarize } from "../billing/billing-summary.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";

/** What `vouch billing summary` is asked for. */
export interface BillingSummaryOptions {
  /** ISO 8601: a date (UTC midnight) or a time with its zone; inclusive. */
  readonly since: string;
  /** The same, exclusive; no end when undefined. */
  readonly until?: string | undefined;
  readonly responder?: string | undefined;
  readonly format: string;
}

/**
 * `vouch billing summary --config FILE --since DATE [--until DATE] [--responder NAME] [--format
 * table|csv|json]`: per-requestor counts from each billed responder's sink over the window, printed
 * in the format. Throws ConfigError for a bad file, an unknown responder, a bad date or window, or an
 * unknown format.
 */
export async function runBillingSummary(configFile: string, options: BillingSummaryOptions): Promise<void> {
  const since = isoTime(options.since, "--since");
  const until = options.until === undefined ? undefined : isoTime(options.until, "--until");
  if (until !== undefined && until.getTime() <= since.getTime()) throw new ConfigError("--until", `${until.toISOString()} is not after --since ${since.toISOString()}`);
  const format = SUMMARY_FORMATS.find((known) => known === options.format);
  if (format === undefined) throw new ConfigError("--format", `"${options.format}" is not one of ${SUMMARY_FORMATS.join(", ")}`);
  const config = await loadConfig(configFile);
  const billed = config.responders.filter((responder) => responder.billing !== undefined && (options.responder === undefined || responder.name === options.responder));
  if (billed.length === 0) {
    throw new ConfigError("--responder", options.responder === undefined ? "no responder in this configuration has billing" : `no billed responder is named "${options.responder}"`, {
      file: configFile,
    });
  }
  const summaries = [];
  for (const responder of billed) {
    summaries.push({ responder: responder.name, sink: responder.billing!.sink, rows: await summarize(billingReader(responder.billing!), since, until) });
  }
  process.stdout.write(formatSummaries(format, { since, until }, summaries));
}

/**
 * `2026-11-01` (UTC midnight) or `2026-11-01T12:00:00Z` / `…+01:00`. A time without its zone is
 * refused: read as local time, it would move an invoice's window with the machine's time zone.
 */
function isoTime(text: string, option: string): Date {
  const match = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  const time = new Date(match !== null && match[1] === undefined ? `${text}T00:00:00Z` : text);
  if (match === null || Number.isNaN(time.getTime())) {
    throw new ConfigError(option, `"${text}" is not an ISO 8601 date or time with its zone (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)`);
  }
  return time;
}
