/**
 * UTCTime and GeneralizedTime in the only forms RFC 5280 §4.1.2.5 allows
 * (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`), read straight from bytes: the one time reader, for
 * requests, responses, certificates, CRLs and index.txt lines. A CRL carries one time per entry
 * and an index.txt one or two per line, so a million of them must not each allocate a string.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Milliseconds since the epoch of the time written in `buf[start, end)`: 13 octets are a UTCTime
 * (years 50-99 are 19xx, RFC 5280), 15 a GeneralizedTime. Returns NaN for anything else
 * (fractions, offsets, impossible dates), so callers decide how to report it.
 */
export function parseDerTime(buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let p = start;
  let year: number;
  if (length === 13) {
    const yy = digits(buf, p, 2);
    p += 2;
    year = yy < 0 ? -1 : yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (length === 15) {
    year = digits(buf, p, 4);
    p += 4;
  } else {
    return Number.NaN;
  }
  const month = digits(buf, p, 2);
  const day = digits(buf, p + 2, 2);
  const hour = digits(buf, p + 4, 2);
  const minute = digits(buf, p + 6, 2);
  const second = digits(buf, p + 8, 2);
  if (buf[p + 10] !== 0x5a /* Z */) return Number.NaN;
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  if (hour < 0 || minute < 0 || second < 0) return Number.NaN;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day > monthDays) return Number.NaN;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC reads years 0-99 as 19xx; a GeneralizedTime "0050" means the year 50.
  return year < 100 ? new Date(ms).setUTCFullYear(year, month - 1, day) : ms;
}

/** The same, for text (index.txt fields). */
export function parseDerTimeText(text: string): number {
  return parseDerTime(Buffer.from(text, "latin1"), 0, text.length);
}

/** The decimal value of `count` ASCII digits at `at`, or -1 when one is not a digit. */
function digits(buf: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = (buf[i] ?? 0) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
