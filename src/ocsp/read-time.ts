import type { DerReader } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";

/**
 * `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` in the RFC 5280 §4.1.2.5
 * profile: YYMMDDHHMMSSZ (years 1950-2049) or YYYYMMDDHHMMSSZ, always UTC, no fraction.
 * Throws MalformedRequestError (the reader's error) for anything else.
 */
export function readTime(reader: DerReader, name: string): Date {
  const tlv = reader.next();
  const text = reader.content(tlv).toString("latin1");
  let match: RegExpExecArray | null = null;
  let year = 0;
  if (tlv.tag === TAG.UTC_TIME) {
    match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
    if (match !== null) year = Number(match[1]) + (Number(match[1]) >= 50 ? 1900 : 2000);
  } else if (tlv.tag === TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
    if (match !== null) year = Number(match[1]);
  }
  if (match === null) reader.fail(`${name}: not an RFC 5280 UTCTime or GeneralizedTime`, tlv.start);
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls over (Feb 30 -> Mar 2); a round trip catches impossible dates. Date.UTC
  // also maps years 0-99 to 1900-1999, hence setUTCFullYear.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    reader.fail(`${name}: impossible date ${text}`, tlv.start);
  }
  return date;
}
