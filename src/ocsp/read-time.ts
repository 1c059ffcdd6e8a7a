import type { DerReader } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";
import { parseDerTime } from "./der-time.ts";

/**
 * `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` in the RFC 5280 §4.1.2.5
 * profile: YYMMDDHHMMSSZ (years 1950-2049) or YYYYMMDDHHMMSSZ, always UTC, no fraction, a date
 * that exists. Throws the reader's error for anything else.
 */
export function readTime(reader: DerReader, name: string): Date {
  const tlv = reader.next();
  const length = tlv.end - tlv.contentStart;
  const shaped = (tlv.tag === TAG.UTC_TIME && length === 13) || (tlv.tag === TAG.GENERALIZED_TIME && length === 15);
  const ms = shaped ? parseDerTime(reader.buf, tlv.contentStart, tlv.end) : Number.NaN;
  if (Number.isNaN(ms)) reader.fail(`${name}: not an RFC 5280 UTCTime or GeneralizedTime (or an impossible date)`, tlv.start);
  return new Date(ms);
}
