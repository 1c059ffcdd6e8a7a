/** The default name prefix of the daily billing files. */
export const DEFAULT_BILLING_PREFIX = "billing";

/** A prefix that cannot climb out of the directory or confuse the day pattern. */
export const BILLING_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The UTC day of `time`, `YYYY-MM-DD`: the rotation unit of the file sink. */
export function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** What tells the files of several writers of one folder apart (a worker process): letters, digits, `_`, `-`. */
export const BILLING_WRITER_PATTERN = /^[A-Za-z0-9_-]+$/;

/** `<prefix>-YYYY-MM-DD.jsonl`, or `<prefix>-YYYY-MM-DD.<writer>.jsonl` when the folder has several writers. */
export function billingFileName(prefix: string, day: string, writer?: string): string {
  return writer === undefined ? `${prefix}-${day}.jsonl` : `${prefix}-${day}.${writer}.jsonl`;
}

/** The day of a billing file name with this prefix, undefined for any other file. */
export function billingFileDay(prefix: string, name: string): string | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})(?:\.[A-Za-z0-9_-]+)?\.jsonl$/.exec(name.slice(prefix.length + 1));
  return match?.[1];
}
