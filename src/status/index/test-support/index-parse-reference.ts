/**
 * The index.txt parser as it was before the chunked byte parser (index-lines.ts), kept only as the
 * reference that the new one is checked against on generated inputs (index-parse-equivalence.test.ts).
 * Not used by the product.
 *
 * Parses the certificate database `openssl ca` keeps (index.txt): one line per issued
 * certificate, six tab-separated fields
 *
 *     status  expiry  revocation  serial  filename  subject
 *
 * status V (valid), E (expired) or R (revoked); expiry and revocation are UTCTime text
 * (`YYMMDDHHMMSSZ`, or GeneralizedTime `YYYYMMDDHHMMSSZ`); the revocation field of an R line is
 * `time[,reason[,argument]]` as apps/ca.c `make_revocation_str` writes it:
 *
 *     261124085940Z,keyCompromise
 *     261124085940Z,holdInstruction,1.2.840.10040.2.2   certificateHold with its instruction
 *     261124085940Z,keyTime,20240101120000Z             keyCompromise, key compromised at that time
 *     261124085940Z,CAkeyTime,20240101120000Z           cACompromise, likewise
 *
 * Reason names match case-insensitively, as openssl's `unpack_revinfo` does.
 */
import { ConfigError } from "../../../errors.ts";
import { CRL_REASON_CODES } from "../../../ocsp/types.ts";
import { parseDerTime } from "../../../ocsp/der-time.ts";
import { serialOctetsFromHex } from "../../serial-key.ts";
import type { SerialTable, SerialTableParts } from "../../table/serial-table.ts";
import { SerialTableBuilder, serialTableFromParts } from "../../table/serial-table.ts";
// The revocation field's general parser is the product's (it has tests of its own in index-parse.test.ts);
// what this reference checks is the byte parser's reading of lines and of the common fields in place.
import { parseRevocationField, REASON_WORDS } from "../index-revocation-field.ts";

const TAB = 0x09;
const NEWLINE = 0x0a;

/**
 * Reads index.txt content into a table of every listed serial. V and E lines are listed but not
 * revoked; R lines are revoked, except `removeFromCRL` (RFC 5280 §5.3.1: a hold that was lifted,
 * only meaningful in delta CRLs), which is listed as not revoked. Throws ConfigError("file", "line N: ...",
 * { file }) on the first malformed line.
 */
export async function parseIndex(content: Buffer, file: string): Promise<SerialTable> {
  return serialTableFromParts(await parseIndexParts(content, file));
}

/** As parseIndex, but the table's arrays. */
export async function parseIndexParts(content: Buffer, file: string): Promise<SerialTableParts> {
  // A line is at least 20 bytes (status, 13-character expiry, a 1-digit serial, 5 tabs), and a
  // serial's octets are half its hex digits, which bounds the table (see SerialTableBuilder).
  // Lines `openssl ca` writes are ~60-120 bytes (the subject DN dominates): 60 sizes the hash slots
  // for the likely count without a counting pass; more rows only cost one rehash.
  const builder = new SerialTableBuilder({ maxRows: content.length / 20 + 1, maxPoolBytes: content.length / 2 + 1, expectedRows: content.length / 60 + 1 });
  const scratch = { serial: new Uint8Array(256), tabs: new Int32Array(5) };
  let p = 0;
  for (let line = 1; p < content.length; line++) {
    let end = content.indexOf(NEWLINE, p);
    if (end < 0) end = content.length;
    const next = end + 1;
    if (end > p && content[end - 1] === 0x0d) end--;
    if (end > p) {
      const problem = parseLine(content, p, end, builder, scratch);
      if (problem !== undefined) throw new ConfigError("file", `line ${line}: ${problem}`, { file });
    }
    p = next;
  }
  return builder.parts();
}

const COMMA = 0x2c;

/**
 * Adds one non-empty line to `builder`; returns what is wrong with it instead, if anything.
 * Measured on 1M lines: the first version split each line into strings (fields, serial hex, the
 * revocation field) and spent ~2.9 µs a line; reading the bytes in place (strings only for error
 * messages and the rare revocation forms with an argument) is the fast path below.
 */
function parseLine(content: Buffer, start: number, end: number, builder: SerialTableBuilder, scratch: { serial: Uint8Array; tabs: Int32Array }): string | undefined {
  const { serial: serialScratch, tabs } = scratch;
  let from = start;
  for (let i = 0; i < 5; i++) {
    const tab = content.indexOf(TAB, from);
    if (tab < 0 || tab >= end) return `expected 6 tab-separated fields, found ${i + 1}`;
    tabs[i] = tab;
    from = tab + 1;
  }
  const [t0 = 0, t1 = 0, t2 = 0, t3 = 0] = tabs;
  const status = t0 - start === 1 ? content[start] : undefined;
  if (Number.isNaN(parseDerTime(content, t0 + 1, t1))) return `expiry "${content.toString("latin1", t0 + 1, t1)}" is not a valid time`;
  let serial: Uint8Array | undefined = serialScratch;
  let serialLength = hexSerial(content, t2 + 1, t3, serialScratch);
  if (serialLength < 0) {
    // A negative serial ("-" + hex, as openssl writes one) or not hex at all: the general path says which.
    serial = serialOctetsFromHex(content.toString("latin1", t2 + 1, t3));
    serialLength = serial?.length ?? 0;
  }
  if (serial === undefined || serialLength === 0 || serialLength > 255) return `serial "${content.toString("latin1", t2 + 1, t3)}" is not hex (of at most 255 octets)`;
  switch (status) {
    case 0x56: // V
    case 0x45: // E: expired certificates were never revoked, so they answer good.
      if (t2 !== t1 + 1) return `a ${String.fromCharCode(status)} line has a revocation field ("${content.toString("latin1", t1 + 1, t2)}")`;
      builder.add(serial, 0, serialLength, Number.NaN, 0xff, Number.NaN);
      return undefined;
    case 0x52: {
      // R
      if (t2 === t1 + 1) return "an R line has no revocation field";
      const parsed = revocationAt(content, t1 + 1, t2);
      if (typeof parsed === "string") return parsed;
      if (parsed.code === CRL_REASON_CODES.removeFromCRL) builder.add(serial, 0, serialLength, Number.NaN, 0xff, Number.NaN);
      else builder.add(serial, 0, serialLength, parsed.revokedAt, parsed.code, parsed.invalidityDate);
      return undefined;
    }
    default:
      return `status "${content.toString("latin1", start, t0)}" is not V, E or R`;
  }
}

/**
 * A non-negative hex serial in `content[start, end)` as INTEGER content octets (minimal, a 0x00
 * first when the top bit is set) written into `out`; returns their count, or -1 when the text is
 * not plain hex (a sign, another character, too long), for the general path to handle.
 */
function hexSerial(content: Buffer, start: number, end: number, out: Uint8Array): number {
  let s = start;
  while (s < end - 1 && content[s] === 0x30) s++;
  const digits = end - s;
  if (digits <= 0 || digits > 2 * 254) return -1;
  let o = 0;
  let p = s;
  if ((digits & 1) === 1) {
    const low = nibble(content[p++] ?? 0);
    if (low < 0) return -1;
    out[o++] = low;
  }
  while (p < end) {
    const high = nibble(content[p] ?? 0);
    const low = nibble(content[p + 1] ?? 0);
    if (high < 0 || low < 0) return -1;
    out[o++] = (high << 4) | low;
    p += 2;
  }
  if ((out[0] ?? 0) >= 0x80) {
    out.copyWithin(1, 0, o);
    out[0] = 0;
    o++;
  }
  return o;
}

function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * The revocation field `content[start, end)`: `time` and `time,reason` read in place; the forms
 * with an argument (hold instruction, key compromise time) go through parseRevocationField.
 */
function revocationAt(content: Buffer, start: number, end: number): ReturnType<typeof parseRevocationField> {
  const general = () => parseRevocationField(content.toString("latin1", start, end));
  const comma = content.indexOf(COMMA, start);
  const timeEnd = comma < 0 || comma >= end ? end : comma;
  const revokedAt = parseDerTime(content, start, timeEnd);
  if (Number.isNaN(revokedAt)) return general();
  if (timeEnd === end) return { revokedAt, code: 0xff, invalidityDate: Number.NaN };
  const second = content.indexOf(COMMA, timeEnd + 1);
  if (second >= 0 && second < end) return general();
  const word = REASON_WORDS.get(content.toString("latin1", timeEnd + 1, end).toLowerCase());
  // Unknown words, and words that need an argument, get their error message from the general path.
  if (word === undefined || word.argument === "oid" || word.argument === "time") return general();
  return { revokedAt, code: word.code, invalidityDate: Number.NaN };
}
