/**
 * Walks a CRL's revokedCertificates into a SerialTable:
 *
 * ```asn1
 * SEQUENCE { userCertificate CertificateSerialNumber, revocationDate Time, crlEntryExtensions Extensions OPTIONAL }
 * ```
 *
 * Runs on the loading thread (crl-jobs.ts) in one go. Each entry's serial octets are copied
 * into the table's pool; nothing is kept per entry beyond the table's row. The common entry (short
 * lengths, at most a reasonCode) is read by a fast path that allocates nothing: measured on 1M
 * entries, the general reader's per-element objects cost ~120 ms of parsing plus ~200 ms of GC.
 * Anything else, including every malformed entry, goes through the general reader, which also
 * words the errors.
 */
import { crlReasonFromCode } from "../../ocsp/types.ts";
import { DerReader, TAG, type Tlv } from "../../ocsp/der-reader.ts";
import { parseDerTime } from "../../ocsp/der-time.ts";
import { CRL_DER } from "./crl-error.ts";
import { derElementEnd } from "./der-header.ts";
import type { ParsedCrl } from "./crl-parse.ts";
import { readExtension, time } from "./crl-parse.ts";
import type { SerialTableParts } from "../table/serial-table.ts";
import { NO_REASON, SerialTableBuilder } from "../table/serial-table.ts";

/** extnID contents: 2.5.29.21 reasonCode, 2.5.29.24 invalidityDate, 2.5.29.29 certificateIssuer. */
const OID_REASON_CODE = Uint8Array.of(0x55, 0x1d, 0x15);
const OID_INVALIDITY_DATE = Uint8Array.of(0x55, 0x1d, 0x18);
const OID_CERTIFICATE_ISSUER = Uint8Array.of(0x55, 0x1d, 0x1d);

/**
 * Which entries a table takes: those whose serial's last octet is `index` modulo `of`. Threads
 * that each build a share of the table (crl-load.ts) walk and check every entry, and add theirs.
 */
export interface EntryShare {
  readonly index: number;
  readonly of: number;
}

/**
 * Reads every entry of `crl`, and the ones in `share` (default: all) into a table's parts. Throws
 * CrlError on a malformed entry, a reason code that does not exist, a certificateIssuer entry
 * extension (an indirect CRL, which Vouch does not support), or an unknown critical entry extension.
 */
export function readCrlEntries(crl: ParsedCrl, share: EntryShare = { index: 0, of: 1 }): SerialTableParts {
  const der = crl.der;
  const end = crl.entriesEnd;
  // Counting first (a walk over the entries' outer headers, a few ms for 1M) sizes the table: its
  // hash slots are touched at random, so an overestimate costs resident memory.
  const rows = countEntries(der, crl.entriesStart, end);
  const builder = new SerialTableBuilder({ maxRows: rows, maxPoolBytes: end - crl.entriesStart, expectedRows: Math.ceil(rows / share.of) });
  const dates = new TimeCache();
  const { index: mine, of } = share;
  let p = crl.entriesStart;
  for (let index = 0; p < end; index++) {
    const next = readCommonEntry(der, p, end, builder, dates, mine, of);
    p = next > 0 ? next : readEntry(der, p, end, index, builder, mine, of);
  }
  return builder.parts();
}

/** Number of elements in `der[start, end)`, or an upper bound when they are malformed (the walk then reports them). */
export function countEntries(der: Buffer, start: number, end: number): number {
  let count = 0;
  for (let p = start; p < end; count++) {
    const next = derElementEnd(der, p);
    if (next < 0) return count + Math.ceil((end - p) / 2);
    p = next;
  }
  return count;
}

/**
 * The last revocation date read, by its octets: a CRL's entries share dates far more often than
 * not (a batch of revocations, or every entry of a CRL rebuilt at once), and comparing 13 octets
 * is cheaper than computing a date.
 */
export class TimeCache {
  #start = -1;
  #length = 0;
  #der: Buffer | undefined;
  #ms = Number.NaN;

  /** The time in `der[start, start + length)`, NaN when it is not a valid DER time. */
  read(der: Buffer, start: number, length: number): number {
    if (length === this.#length && der === this.#der) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (der[start + i] !== der[this.#start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#ms;
    }
    const ms = parseDerTime(der, start, start + length);
    if (!Number.isNaN(ms)) {
      this.#der = der;
      this.#start = start;
      this.#length = length;
      this.#ms = ms;
    }
    return ms;
  }
}

/**
 * Reads the entry at `p` when it has the common shape: short-form lengths, a serial, a UTCTime or
 * GeneralizedTime, and no extension but a non-critical reasonCode. Returns the entry's end, or 0
 * when it has another shape (or a fault) and must go through `readEntry`; adds nothing then.
 */
export function readCommonEntry(der: Buffer, p: number, limit: number, builder: SerialTableBuilder, dates: TimeCache, mine: number, of: number): number {
  if (der[p] !== TAG.SEQUENCE) return 0;
  const entryLength = der[p + 1] ?? 0x80;
  if (entryLength >= 0x80) return 0;
  const entryEnd = p + 2 + entryLength;
  if (entryEnd > limit) return 0;
  // userCertificate
  let q = p + 2;
  if (der[q] !== TAG.INTEGER) return 0;
  const serialLength = der[q + 1] ?? 0x80;
  if (serialLength === 0 || serialLength >= 0x80) return 0;
  const serialStart = q + 2;
  const serialEnd = serialStart + serialLength;
  if (serialEnd > entryEnd) return 0;
  // revocationDate
  q = serialEnd;
  const dateTag = der[q];
  const dateLength = der[q + 1] ?? 0;
  if (!((dateTag === TAG.UTC_TIME && dateLength === 13) || (dateTag === TAG.GENERALIZED_TIME && dateLength === 15))) return 0;
  const dateStart = q + 2;
  q = dateStart + dateLength;
  if (q > entryEnd) return 0;
  const revokedAt = dates.read(der, dateStart, dateLength);
  if (Number.isNaN(revokedAt)) return 0;
  let code = NO_REASON;
  if (q < entryEnd) {
    // crlEntryExtensions: a SEQUENCE that ends with the entry, of reasonCode extensions only.
    if (der[q] !== TAG.SEQUENCE || q + 2 + (der[q + 1] ?? 0x80) !== entryEnd) return 0;
    for (q += 2; q < entryEnd; ) {
      // SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED code } }: 30 0a 06 03 55 1d 15 04 03 0a 01 xx
      if (q + 12 > entryEnd || der[q] !== TAG.SEQUENCE || der[q + 1] !== 0x0a || der[q + 2] !== 0x06 || der[q + 3] !== 0x03) return 0;
      if (der[q + 4] !== 0x55 || der[q + 5] !== 0x1d || der[q + 6] !== 0x15) return 0;
      if (der[q + 7] !== 0x04 || der[q + 8] !== 0x03 || der[q + 9] !== TAG.ENUMERATED || der[q + 10] !== 0x01) return 0;
      code = der[q + 11] ?? NO_REASON;
      if (crlReasonFromCode(code) === undefined) return 0;
      q += 12;
    }
  }
  if ((der[serialEnd - 1] ?? 0) % of === mine) builder.add(der, serialStart, serialEnd, revokedAt, code, Number.NaN);
  return entryEnd;
}

/** Reads any entry at `p`, and words the fault when it is malformed or unsupported. */
export function readEntry(der: Buffer, p: number, limit: number, index: number, builder: SerialTableBuilder, mine: number, of: number): number {
  const what = `revokedCertificates[${index}]`;
  const list = DerReader.over(der, p, limit, what, CRL_DER);
  const entryTlv = list.expect(TAG.SEQUENCE, what);
  const entry = list.enter(entryTlv, what);
  const serial = entry.expect(TAG.INTEGER, what);
  if (serial.end === serial.contentStart) entry.reject(`${what}: empty serial`);
  const revokedAt = time(entry, entry.next(), `${what}.revocationDate`);
  let code = NO_REASON;
  let invalidity = Number.NaN;
  if (entry.hasMore) {
    const extensions = entry.enterNext(TAG.SEQUENCE, `${what}.crlEntryExtensions`);
    entry.finish();
    while (extensions.hasMore) {
      const extension = readExtension(extensions, `${what}.crlEntryExtensions`, false);
      const value = DerReader.over(der, extension.value.contentStart, extension.value.end, what, CRL_DER);
      if (oidIs(der, extension.oidTlv, OID_REASON_CODE)) {
        const enumerated = value.expect(TAG.ENUMERATED, `${what}.reasonCode`);
        const reason = enumerated.end - enumerated.contentStart === 1 ? crlReasonFromCode(der[enumerated.contentStart] ?? NO_REASON) : undefined;
        if (reason === undefined) value.reject(`${what}.reasonCode: not a CRLReason`);
        code = der[enumerated.contentStart] ?? NO_REASON;
      } else if (oidIs(der, extension.oidTlv, OID_INVALIDITY_DATE)) {
        invalidity = time(value, value.next(), `${what}.invalidityDate`);
      } else if (oidIs(der, extension.oidTlv, OID_CERTIFICATE_ISSUER)) {
        value.reject(`${what}: certificateIssuer entry extension (indirect CRL) is not supported`);
      } else if (extension.critical) {
        value.reject(`${what}: unsupported critical entry extension`);
      }
    }
  }
  if (serial.end - serial.contentStart > 255) entry.reject(`${what}: serial longer than 255 octets`);
  if ((der[serial.end - 1] ?? 0) % of === mine) builder.add(der, serial.contentStart, serial.end, revokedAt, code, invalidity);
  return entryTlv.end;
}

/** Whether the OID content at `tlv` is `content` (compared in place, no decoding). */
function oidIs(buf: Buffer, tlv: Tlv, content: Uint8Array): boolean {
  if (tlv.end - tlv.contentStart !== content.length) return false;
  for (let i = 0; i < content.length; i++) if (buf[tlv.contentStart + i] !== content[i]) return false;
  return true;
}
