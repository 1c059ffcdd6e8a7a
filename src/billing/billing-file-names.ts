/** The default name prefix of the daily billing files. */
export const DEFAULT_BILLING_PREFIX = "billing";

/** A prefix that cannot climb out of the directory or confuse the day pattern. */
export const BILLING_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The UTC day of `time`, `YYYY-MM-DD`: the rotation unit of the file sink. */
export function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** `<prefix>-YYYY-MM-DD.jsonl` */
export function billingFileName(prefix: string, day: string): string {
  return `${prefix}-${day}.jsonl`;
}

/** The day of a billing file name with this prefix, undefined for any other file. */
export function billingFileDay(prefix: string, name: string): string | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(name.slice(prefix.length + 1));
  return match?.[1];
}
