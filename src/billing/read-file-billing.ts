import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DEFAULT_BILLING_PREFIX, billingFileDay, utcDay } from "./billing-file-names.ts";
import { parseBillingRecordLine } from "./billing-record-json.ts";
import type { BillingRecord } from "./billing-sink.ts";
import type { BillingTally } from "./billing-summary.ts";

/** How to read a folder of billing files. */
export interface ReadFileBillingOptions {
  /** As given to the sink (default "billing"). */
  readonly prefix?: string;
  /**
   * Told about each line that is not a record (a line torn by a power cut, an edit by hand); such
   * lines are skipped. The sink cuts failed writes back out, so these should be rare.
   */
  readonly onMalformed?: (file: string, lineNumber: number) => void;
  /** Only records before this time (exclusive; default: no end). */
  readonly until?: Date | undefined;
}

/**
 * Streams the records at or after `since` (and before `options.until`) from the daily files of the
 * file sink, oldest day first, opening only the files of the UTC days in that window. Files are read
 * line by line: a month of billing never sits in memory.
 */
export async function* readFileBillingRecords(directory: string, since: Date, options: ReadFileBillingOptions = {}): AsyncGenerator<BillingRecord> {
  const prefix = options.prefix ?? DEFAULT_BILLING_PREFIX;
  const firstDay = utcDay(since);
  const until = options.until?.getTime() ?? Infinity;
  const lastDay = until === Infinity ? "9999-12-31" : utcDay(new Date(until - 1));
  const files = (await readdir(directory))
    .map((name) => ({ name, day: billingFileDay(prefix, name) }))
    .filter((file): file is { name: string; day: string } => file.day !== undefined && file.day >= firstDay && file.day <= lastDay)
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  for (const { name } of files) {
    const path = join(directory, name);
    const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      if (line === "") continue;
      const record = parseBillingRecordLine(line);
      if (record === undefined) {
        options.onMalformed?.(path, lineNumber);
        continue;
      }
      const time = record.time.getTime();
      if (time >= since.getTime() && time < until) yield record;
    }
  }
}

/** The tally of one record. */
function tallyOf(record: BillingRecord): BillingTally {
  return {
    requestor: record.requestor,
    outcome: record.outcome,
    requests: 1,
    singleRequests: record.singleRequests ?? 0,
    certificates: record.certificates?.length ?? 0,
  };
}

/** A BillingReader over the file sink's folder: one tally per record. */
export async function* readFileBilling(directory: string, since: Date, options: ReadFileBillingOptions = {}): AsyncGenerator<BillingTally> {
  for await (const record of readFileBillingRecords(directory, since, options)) yield tallyOf(record);
}
