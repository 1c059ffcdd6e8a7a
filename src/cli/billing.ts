import { billingReader, formatSummary, summarize } from "../billing/billing-summary.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";

/**
 * `vouch billing summary --config FILE --since DATE [--responder NAME]`: per-requestor counts from
 * each billed responder's sink, since `since` (an ISO 8601 date or time). Throws ConfigError for a
 * bad file, an unknown responder or a bad date.
 */
export async function runBillingSummary(configFile: string, since: string, responderName: string | undefined): Promise<void> {
  const sinceDate = new Date(since);
  if (Number.isNaN(sinceDate.getTime())) throw new ConfigError("--since", `"${since}" is not a date (use e.g. 2026-11-01 or 2026-11-01T12:00:00Z)`);
  const config = await loadConfig(configFile);
  const billed = config.responders.filter((responder) => responder.billing !== undefined && (responderName === undefined || responder.name === responderName));
  if (billed.length === 0) {
    throw new ConfigError("--responder", responderName === undefined ? "no responder in this configuration has billing" : `no billed responder is named "${responderName}"`, { file: configFile });
  }
  for (const responder of billed) {
    const rows = await summarize(billingReader(responder.billing!), sinceDate);
    process.stdout.write(`responder ${responder.name} (${responder.billing!.sink}), since ${sinceDate.toISOString()}\n${formatSummary(rows)}\n`);
  }
}
