/**
 * A CRL's entries walked while its bytes still arrive (files/arriving-bytes.ts: a download on
 * another loading thread), so that indexing a CRL fetched over HTTP overlaps the fetch instead of
 * following it. Nothing is answered from the table before the whole CRL has passed every check: the
 * walk only starts early. The CRL's layout is read from its first octets (the entries come before
 * the extensions and the signature); a CRL whose start does not look like a DER CRL is walked once
 * complete, as a file is, by the usual parse, which words its faults.
 */
import type { ArrivingBytes } from "../files/arriving-bytes.ts";
import { awaitArrival } from "../files/arriving-bytes.ts";
import { SerialTableBuilder, type SerialTableParts } from "../table/serial-table.ts";
import { countEntries, readCommonEntry, readCrlEntries, readEntry, TimeCache } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import { checkCrlHeader, headerOf, readCheckedCrl, type CheckedCrl, type CrlIssuer } from "./crl-read.ts";

/** The table is sized from the entries in this first stretch (all of them in a smaller CRL). */
const SAMPLE_BYTES = 1 << 20;

/**
 * Walks the CRL's entries as they arrive, then, once it is complete, checks it as readCheckedCrl
 * does without verifying the signature (another thread does: crl-jobs.ts). Throws CrlError as
 * readCheckedCrl does, and an Error when the transfer broke off.
 */
export async function readArrivingCrl(arriving: ArrivingBytes, issuer: CrlIssuer, now: number): Promise<CheckedCrl> {
  const walked = walkArrivingEntries(arriving);
  const { filled } = awaitArrival(arriving, Number.POSITIVE_INFINITY);
  const bytes = arriving.bytes.subarray(0, filled);
  if (walked === undefined) return readCheckedCrl(await crlDerOfFile(bytes), issuer, now, { verify: false });
  const crl = checkCrlHeader(bytes, issuer, now, false);
  // The parse of the whole must find the entries where the walk did; if not (never seen), they are walked again.
  const entries = crl.entriesStart === walked.start && crl.entriesEnd === walked.end ? walked.parts : readCrlEntries(crl);
  return { ...headerOf(crl), entries };
}

/** The entries' range and table, or `undefined` when the start is not a DER CRL's or the bytes ended first. */
function walkArrivingEntries(arriving: ArrivingBytes): { start: number; end: number; parts: SerialTableParts } | undefined {
  const der = arriving.bytes;
  let available = 0;
  const has = (end: number): boolean => {
    if (end <= available) return true;
    available = awaitArrival(arriving, end).filled;
    return available >= end;
  };
  const range = locateEntries(der, has);
  if (range === undefined) return undefined;
  const { start, end } = range;
  const sampleEnd = Math.min(end, start + SAMPLE_BYTES);
  if (!has(sampleEnd)) return undefined;
  const sampled = countEntries(der, start, sampleEnd);
  // Sized from the sample, with a margin (the table grows past it if the rest is denser): an
  // upper bound from the smallest entry (20 octets) was ~2.3× the rows of a typical CRL, and the
  // allocator zero-fills arrays of that size by touching them (+55 MiB resident for 1M entries).
  const expectedRows = sampleEnd === end ? sampled : Math.ceil(((sampled * (end - start)) / (sampleEnd - start)) * 1.05);
  const builder = new SerialTableBuilder({ maxRows: expectedRows, maxPoolBytes: end - start, expectedRows });
  const dates = new TimeCache();
  let p = start;
  for (let index = 0; p < end; index++) {
    if (!has(Math.min(end, p + 6)) || !has(Math.min(end, elementEnd(der, p, end)))) return undefined;
    const next = readCommonEntry(der, p, end, builder, dates, 0, 1);
    p = next > 0 ? next : readEntry(der, p, end, index, builder, 0, 1);
  }
  return { start, end, parts: builder.parts() };
}

/**
 * Where revokedCertificates' content lies: the third SEQUENCE in tbsCertList (after signature and
 * issuer). `undefined` when the headers are not those of a DER CRL with entries, or the bytes end.
 */
function locateEntries(der: Buffer, has: (end: number) => boolean): { start: number; end: number } | undefined {
  const header = (at: number): { tag: number; contentStart: number; end: number } | undefined => {
    if (!has(at + 6)) return undefined;
    const first = der[at + 1] ?? 0;
    if (first < 0x80) return { tag: der[at] ?? 0, contentStart: at + 2, end: at + 2 + first };
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) return undefined;
    let length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[at + 2 + i] ?? 0);
    return { tag: der[at] ?? 0, contentStart: at + 2 + octets, end: at + 2 + octets + length };
  };
  const list = header(0);
  if (list?.tag !== 0x30) return undefined;
  const tbs = header(list.contentStart);
  if (tbs?.tag !== 0x30 || tbs.end > list.end) return undefined;
  let sequences = 0;
  for (let q = tbs.contentStart; q < tbs.end; ) {
    const element = header(q);
    if (element === undefined || element.end > tbs.end) return undefined;
    if (element.tag === 0x30 && ++sequences === 3) return { start: element.contentStart, end: element.end };
    q = element.end;
  }
  return undefined;
}

/** The end of the element whose header is at `p` (or `limit` when its length is not one a walk reads). */
function elementEnd(der: Buffer, p: number, limit: number): number {
  const first = der[p + 1] ?? 0;
  if (first < 0x80) return p + 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) return limit;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + (der[p + 2 + i] ?? 0);
  return p + 2 + octets + length;
}
