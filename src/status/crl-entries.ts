/**
 * Walks a CRL's revokedCertificates into a SerialTable, a slice at a time:
 *
 * ```asn1
 * SEQUENCE { userCertificate CertificateSerialNumber, revocationDate Time, crlEntryExtensions Extensions OPTIONAL }
 * ```
 *
 * Each entry's OIDs are compared as bytes and its serial octets are copied into the table's
 * pool; nothing is kept per entry beyond the table's row.
 */
import { crlReasonFromCode } from "../ocsp/types.ts";
import { CrlError, expectTlv, oidEquals, readTlv, TAG_ENUMERATED, TAG_INTEGER, TAG_SEQUENCE } from "./crl-der.ts";
import type { ParsedCrl } from "./crl-parse.ts";
import { readExtension, time } from "./crl-parse.ts";
import type { SerialTable } from "./serial-table.ts";
import { SerialTableBuilder } from "./serial-table.ts";
import { timeSlicer } from "./time-slice.ts";

/** extnID contents: 2.5.29.21 reasonCode, 2.5.29.24 invalidityDate, 2.5.29.29 certificateIssuer. */
const OID_REASON_CODE = Uint8Array.of(0x55, 0x1d, 0x15);
const OID_INVALIDITY_DATE = Uint8Array.of(0x55, 0x1d, 0x18);
const OID_CERTIFICATE_ISSUER = Uint8Array.of(0x55, 0x1d, 0x1d);

/**
 * Reads every entry of `crl` into a table. Yields to the event loop whenever a time slice
 * (time-slice.ts) is used up, checking the clock every 256 entries. Throws CrlError on a
 * malformed entry, a reason code that does not exist, a certificateIssuer entry extension (an
 * indirect CRL, which Vouch does not support), or an unknown critical entry extension. Stops
 * early, throwing, when `signal` aborts.
 */
export async function readCrlEntries(crl: ParsedCrl, options: { signal?: AbortSignal } = {}): Promise<SerialTable> {
  const der = crl.der;
  // An entry is at least 20 octets (SEQUENCE header, a one-octet INTEGER, a UTCTime), and its
  // serial octets are fewer than its own, which bounds the table (see SerialTableBuilder).
  const bytes = crl.entriesEnd - crl.entriesStart;
  // A typical entry (a 16-20 octet serial, a UTCTime and a reasonCode) is 40-50 octets: 32 sizes the
  // hash slots for the likely count without a counting pass; more rows only cost one rehash.
  const builder = new SerialTableBuilder({ maxRows: bytes / 20, maxPoolBytes: bytes, expectedRows: bytes / 32 });
  const slicer = timeSlicer();
  const end = crl.entriesEnd;
  let p = crl.entriesStart;
  for (let index = 0; p < end; index++) {
    p = readEntry(der, p, end, index, builder);
    if ((index & 0xff) === 0xff && p < end && slicer.due()) {
      await slicer.pause();
      if (options.signal?.aborted === true) throw new CrlError("reading entries was cancelled");
    }
  }
  return builder.build();
}

function readEntry(der: Buffer, p: number, limit: number, index: number, builder: SerialTableBuilder): number {
  const what = `revokedCertificates[${index}]`;
  const entry = expectTlv(der, p, limit, TAG_SEQUENCE, what);
  const serial = expectTlv(der, entry.contentStart, entry.end, TAG_INTEGER, what);
  if (serial.end === serial.contentStart) throw new CrlError(`${what}: empty serial`);
  const dateTlv = readTlv(der, serial.end, entry.end, what);
  const revokedAt = time(der, dateTlv, `${what}.revocationDate`);
  let code = 0xff;
  let invalidity = Number.NaN;
  if (dateTlv.end < entry.end) {
    const list = expectTlv(der, dateTlv.end, entry.end, TAG_SEQUENCE, `${what}.crlEntryExtensions`);
    if (list.end !== entry.end) throw new CrlError(`${what}: trailing octets`);
    for (let q = list.contentStart; q < list.end; ) {
      const extension = readExtension(der, q, list.end, `${what}.crlEntryExtensions`, false);
      q = extension.end;
      const value = extension.value;
      if (oidEquals(der, extension.oidTlv, OID_REASON_CODE)) {
        const enumerated = expectTlv(der, value.contentStart, value.end, TAG_ENUMERATED, `${what}.reasonCode`);
        const reason = enumerated.end - enumerated.contentStart === 1 ? crlReasonFromCode(der[enumerated.contentStart] ?? 0xff) : undefined;
        if (reason === undefined) throw new CrlError(`${what}.reasonCode: not a CRLReason`);
        code = der[enumerated.contentStart] ?? 0xff;
      } else if (oidEquals(der, extension.oidTlv, OID_INVALIDITY_DATE)) {
        invalidity = time(der, readTlv(der, value.contentStart, value.end, what), `${what}.invalidityDate`);
      } else if (oidEquals(der, extension.oidTlv, OID_CERTIFICATE_ISSUER)) {
        throw new CrlError(`${what}: certificateIssuer entry extension (indirect CRL) is not supported`);
      } else if (extension.critical) {
        throw new CrlError(`${what}: unsupported critical entry extension`);
      }
    }
  }
  if (serial.end - serial.contentStart > 255) throw new CrlError(`${what}: serial longer than 255 octets`);
  builder.add(der, serial.contentStart, serial.end, revokedAt, code, invalidity);
  return entry.end;
}
