/**
 * DER building blocks for responses. Each helper returns a finished TLV Buffer; they
 * compose by concatenation, which is cheap at OCSP sizes (a few hundred octets, a few
 * levels deep). Where allocations matter (the outer response with its certificates, and
 * the tbsResponseData built for every signed response), `headerLength`/`tlvLength` and
 * `writeHeader`/`writeGeneralizedTime` let a caller size once and write in place.
 * Inputs come from Vouch itself, so misuse throws RangeError rather than an OcspError.
 */
import { encodeOid } from "./der-oid.ts";

/** Octets needed for the identifier and length of an element with `length` content octets. */
export function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  if (length < 0x10000) return 4;
  if (length < 0x1000000) return 5;
  return 6;
}

/** Octets of a whole element (identifier, length and content) with `length` content octets. */
export function tlvLength(length: number): number {
  return headerLength(length) + length;
}

/** Writes identifier and minimal length at `offset`; returns the offset of the content. */
export function writeHeader(buf: Buffer, offset: number, tag: number, length: number): number {
  buf[offset++] = tag;
  if (length < 0x80) {
    buf[offset++] = length;
    return offset;
  }
  const count = headerLength(length) - 2;
  buf[offset++] = 0x80 | count;
  for (let i = count - 1; i >= 0; i--) buf[offset++] = Math.floor(length / 2 ** (8 * i)) & 0xff;
  return offset;
}

/** A TLV whose content is the concatenation of `parts`, with a minimal length. */
export function tlv(tag: number, ...parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = Buffer.allocUnsafe(headerLength(length) + length);
  let offset = writeHeader(out, 0, tag, length);
  for (const part of parts) offset += part.copy(out, offset);
  return out;
}

/** SEQUENCE of the given encoded elements. */
export function sequence(...parts: readonly Buffer[]): Buffer {
  return tlv(0x30, ...parts);
}

/** `[n] EXPLICIT` wrapper around encoded elements. */
export function explicit(n: number, ...parts: readonly Buffer[]): Buffer {
  return tlv(0xa0 | n, ...parts);
}

/** The NULL element, shared (it is never written to). */
export const DER_NULL: Buffer = Buffer.from([0x05, 0x00]);

/** BOOLEAN; DER encodes TRUE as 0xff. */
export function boolean(value: boolean): Buffer {
  return Buffer.from([0x01, 0x01, value ? 0xff : 0x00]);
}

/** Minimal two's-complement content octets of a safe integer. */
function integerContent(value: number): Buffer {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
  const octets: number[] = [];
  let v = BigInt(value);
  // Emit low octets until the remaining value is just the sign extension of the last one.
  for (;;) {
    const octet = Number(BigInt.asUintN(8, v));
    octets.unshift(octet);
    v >>= 8n;
    if ((v === 0n && (octet & 0x80) === 0) || (v === -1n && (octet & 0x80) !== 0)) break;
  }
  return Buffer.from(octets);
}

/** Rejects content octets that DER would not produce: empty, or a redundant leading octet. */
function checkIntegerContent(content: Buffer): void {
  if (content.length === 0) throw new RangeError("INTEGER content must not be empty");
  const a = content[0] ?? 0;
  const b = content[1] ?? 0;
  if (content.length > 1 && ((a === 0x00 && b < 0x80) || (a === 0xff && b >= 0x80))) {
    throw new RangeError("INTEGER content is not minimal");
  }
}

/** INTEGER from a safe integer, or from content octets (e.g. a serial number) that must already be minimal. */
export function integer(value: number | Buffer): Buffer {
  if (typeof value === "number") return tlv(0x02, integerContent(value));
  checkIntegerContent(value);
  return tlv(0x02, value);
}

/** ENUMERATED (CRLReason, OCSPResponseStatus). */
export function enumerated(value: number): Buffer {
  return tlv(0x0a, integerContent(value));
}

/** OCTET STRING. */
export function octetString(content: Buffer): Buffer {
  return tlv(0x04, content);
}

/** BIT STRING of whole octets (0 unused bits): signatures and keys. */
export function bitString(octets: Buffer): Buffer {
  return tlv(0x03, Buffer.of(0), octets);
}

/** OBJECT IDENTIFIER from dotted text; the content encoding is cached by `encodeOid`. */
export function oid(dotted: string): Buffer {
  return tlv(0x06, encodeOid(dotted));
}

/** Octets of every GeneralizedTime element written here: identifier, length 15, YYYYMMDDHHMMSSZ. */
export const GENERALIZED_TIME_LENGTH = 17;

/**
 * GeneralizedTime as RFC 5280 §4.1.2.5.2 requires: YYYYMMDDHHMMSSZ in UTC, no fraction
 * (sub-second precision is dropped, not rounded, so a time never moves into the future).
 */
export function generalizedTime(date: Date): Buffer {
  const out = Buffer.allocUnsafe(GENERALIZED_TIME_LENGTH);
  writeGeneralizedTime(out, 0, date);
  return out;
}

/**
 * The length of `date`'s GeneralizedTime element (always GENERALIZED_TIME_LENGTH), after the
 * checks writing it makes: a sizing pass that calls this throws, for the same date and at
 * the same point, the RangeError that building the element piece by piece would throw.
 */
export function generalizedTimeLength(date: Date): number {
  checkedTime(date);
  return GENERALIZED_TIME_LENGTH;
}

/** Writes `date` as `generalizedTime` encodes it, at `offset`; returns the offset after it. */
export function writeGeneralizedTime(out: Buffer, offset: number, date: Date): number {
  const ms = checkedTime(date);
  // Within the checked span these fit in 32 bits, and `| 0` lets the JIT use integer division.
  // It truncates: days is floored first, and the other quotients are of non-negative numbers.
  const days = Math.floor(ms / DAY_MS) | 0;
  const seconds = ((ms - days * DAY_MS) / 1000) | 0;
  const minutes = (seconds / 60) | 0;
  out[offset] = 0x18;
  out[offset + 1] = 15;
  writeCivilDate(out, offset + 2, days);
  put2(out, offset + 10, (minutes / 60) | 0);
  put2(out, offset + 12, minutes % 60);
  put2(out, offset + 14, seconds % 60);
  out[offset + 16] = 0x5a; // "Z"
  return offset + GENERALIZED_TIME_LENGTH;
}

const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the times whose year YYYY can carry are in between. */
const FIRST_MS = -62_167_219_200_000;
const END_MS = 253_402_300_800_000;

/** `date`'s time value; RangeError when the date is invalid or its year needs more than YYYY. */
function checkedTime(date: Date): number {
  const ms = date.getTime();
  if (ms >= FIRST_MS && ms < END_MS) return ms;
  if (!Number.isFinite(ms)) throw new RangeError("invalid Date");
  throw new RangeError(`year ${date.getUTCFullYear()} does not fit GeneralizedTime`);
}

/**
 * YYYYMMDD of the day `days` after 1970-01-01, by civil_from_days from H. Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms". Arithmetic, because Date's six getUTC*
 * calls cost more than all the rest of encoding a tbsResponseData with three times.
 */
function writeCivilDate(out: Buffer, offset: number, days: number): void {
  // Days since 0000-03-01 (a year counted from March ends with its leap day), moved one
  // 400-year era later so that every quotient below is of a non-negative number.
  const z = days + 719_468 + 146_097;
  const era = (z / 146_097) | 0;
  const dayOfEra = z - era * 146_097;
  const yearOfEra = ((dayOfEra - ((dayOfEra / 1460) | 0) + ((dayOfEra / 36_524) | 0) - ((dayOfEra / 146_096) | 0)) / 365) | 0;
  const dayOfYear = dayOfEra - (365 * yearOfEra + ((yearOfEra / 4) | 0) - ((yearOfEra / 100) | 0));
  const monthFromMarch = ((5 * dayOfYear + 2) / 153) | 0;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  put4(out, offset, (era - 1) * 400 + yearOfEra + (month <= 2 ? 1 : 0));
  put2(out, offset + 4, month);
  put2(out, offset + 6, dayOfYear - (((153 * monthFromMarch + 2) / 5) | 0) + 1);
}

/** Two decimal digits of 0 <= value < 100. */
function put2(out: Buffer, offset: number, value: number): void {
  const tens = (value / 10) | 0;
  out[offset] = 0x30 + tens;
  out[offset + 1] = 0x30 + value - tens * 10;
}

/** Four decimal digits of 0 <= value < 10000. */
function put4(out: Buffer, offset: number, value: number): void {
  const hundreds = (value / 100) | 0;
  put2(out, offset, hundreds);
  put2(out, offset + 2, value - hundreds * 100);
}
