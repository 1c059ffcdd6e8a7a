/**
 * A CRL read while its bytes still arrive (files/arriving-bytes.ts: a download on another loading
 * thread), so that reading a CRL fetched over HTTP overlaps the fetch instead of following it: its
 * entries are walked into the table, and its octets hashed (SHA-256, for the rollback check) and
 * its tbsCertList fed to the signature check, as they come. The CRL's layout is read from its first
 * octets (the entries come before the extensions and the signature). Nothing is answered from the
 * table before the whole CRL has passed every check, in the order a file's are reported (crl-read.ts:
 * the header, the signature, then the entries); the walk only starts early. A CRL whose start does
 * not look like a DER CRL is read once complete, as a file is.
 */
import { createHash } from "node:crypto";
import type { ArrivingBytes } from "../files/arriving-bytes.ts";
import { awaitArrival } from "../files/arriving-bytes.ts";
import { SerialTableBuilder, type SerialTableParts } from "../table/serial-table.ts";
import { countEntries, readCommonEntry, readCrlEntries, readEntry, TimeCache } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import { checkCrlHeader, headerOf, readCheckedCrl, type CheckedCrl, type CrlIssuer } from "./crl-read.ts";
import { arrivingSignatureCheck, type ArrivingSignatureCheck } from "./crl-signature.ts";

/** The table is sized from the entries in this first stretch (all of them in a smaller CRL). */
const SAMPLE_BYTES = 1 << 20;

/** The CRL checked and indexed, with the SHA-256 (hex) of its bytes; or that they hash to the CRL held. */
export type ArrivedCrl = { readonly kind: "checked"; readonly crl: CheckedCrl; readonly sha256: string } | { readonly kind: "unchanged" };

/** Where a DER CRL's parts lie, read from its first octets. */
interface Layout {
  readonly tbsStart: number;
  readonly tbsEnd: number;
  /** The tbsCertList's signature AlgorithmIdentifier TLV. */
  readonly algorithm: Buffer;
  /** revokedCertificates' content. */
  readonly entriesStart: number;
  readonly entriesEnd: number;
}

/**
 * Reads the CRL as it arrives (see the file comment) and checks it once complete as readCheckedCrl
 * does, signature included. Resolves `unchanged` when its bytes hash to `unlessSha256`. Throws
 * CrlError as readCheckedCrl does, and an Error when the transfer broke off.
 */
export async function readArrivingCrl(arriving: ArrivingBytes, issuer: CrlIssuer, now: number, unlessSha256: string | undefined): Promise<ArrivedCrl> {
  const der = arriving.bytes;
  const hash = createHash("sha256");
  let signature: ArrivingSignatureCheck | undefined;
  let layout: Layout | undefined;
  let digested = 0;
  // Hashes and feeds the signature check what arrived since the last time.
  const digest = (upTo: number): void => {
    if (upTo <= digested) return;
    hash.update(der.subarray(digested, upTo));
    if (layout !== undefined && signature !== undefined) {
      const from = Math.max(digested, layout.tbsStart);
      const to = Math.min(upTo, layout.tbsEnd);
      if (from < to) signature.update(der.subarray(from, to));
    }
    digested = upTo;
  };
  let available = 0;
  const has = (end: number): boolean => {
    if (end <= available) return true;
    available = awaitArrival(arriving, end).filled;
    if (signature !== undefined) digest(available);
    return available >= end;
  };

  let walked: SerialTableParts | undefined;
  let walkFault: unknown;
  layout = locate(der, has);
  if (layout !== undefined) {
    signature = arrivingSignatureCheck(Buffer.from(layout.algorithm), issuer.publicKey);
    digest(available);
    try {
      walked = walkEntries(der, layout, has);
    } catch (error) {
      // Reported only if the header and the signature pass, as a file's would be.
      walkFault = error;
    }
  }
  const { filled } = awaitArrival(arriving, Number.POSITIVE_INFINITY);
  if (signature === undefined) layout = undefined;
  digest(filled);
  const sha256 = hash.digest("hex");
  if (sha256 === unlessSha256) return { kind: "unchanged" };
  const bytes = der.subarray(0, filled);
  if (layout === undefined || signature === undefined) return { kind: "checked", crl: readCheckedCrl(await crlDerOfFile(bytes), issuer, now), sha256 };
  const crl = checkCrlHeader(bytes, issuer, now, false);
  signature.verify(crl);
  if (walkFault !== undefined) throw walkFault;
  // The parse of the whole must find the entries where the walk did; if not (never seen), they are walked again.
  const entries = walked !== undefined && crl.entriesStart === layout.entriesStart && crl.entriesEnd === layout.entriesEnd ? walked : readCrlEntries(crl);
  return { kind: "checked", crl: { ...headerOf(crl), entries }, sha256 };
}

/** The entries' table, or `undefined` when the bytes ended first (the parse of the whole words that). */
function walkEntries(der: Buffer, layout: Layout, has: (end: number) => boolean): SerialTableParts | undefined {
  const { entriesStart: start, entriesEnd: end } = layout;
  const sampleEnd = Math.min(end, start + SAMPLE_BYTES);
  if (!has(sampleEnd)) return undefined;
  // Sized from the sample, with a margin (the table grows past it if the rest is denser): an
  // upper bound from the smallest entry (20 octets) was ~2.3× the rows of a typical CRL, and the
  // allocator zero-fills arrays of that size by touching them (+55 MiB resident for 1M entries).
  const sampled = countEntries(der, start, sampleEnd);
  const expectedRows = sampleEnd === end ? sampled : Math.ceil(((sampled * (end - start)) / (sampleEnd - start)) * 1.05);
  const builder = new SerialTableBuilder({ maxRows: expectedRows, maxPoolBytes: end - start, expectedRows });
  const dates = new TimeCache();
  let p = start;
  for (let index = 0; p < end; index++) {
    if (!has(Math.min(end, p + 6)) || !has(Math.min(end, elementEnd(der, p, end)))) return undefined;
    const next = readCommonEntry(der, p, end, builder, dates, 0, 1);
    p = next > 0 ? next : readEntry(der, p, end, index, builder, 0, 1);
  }
  return builder.parts();
}

/**
 * The layout from the first octets: tbsCertList, its signature AlgorithmIdentifier (the first
 * SEQUENCE in it) and revokedCertificates (the third, after the issuer). `undefined` when the
 * headers are not those of a DER CRL with entries, or the bytes end.
 */
function locate(der: Buffer, has: (end: number) => boolean): Layout | undefined {
  const header = (at: number): { tag: number; contentStart: number; end: number } | undefined => {
    if (!has(at + 6)) return undefined;
    const end = elementEnd(der, at, -1);
    return end < 0 ? undefined : { tag: der[at] ?? 0, contentStart: at + 2 + ((der[at + 1] ?? 0) < 0x80 ? 0 : (der[at + 1] ?? 0) & 0x7f), end };
  };
  const list = header(0);
  if (list?.tag !== 0x30) return undefined;
  const tbs = header(list.contentStart);
  if (tbs?.tag !== 0x30 || tbs.end > list.end) return undefined;
  let algorithm: Buffer | undefined;
  let sequences = 0;
  for (let q = tbs.contentStart; q < tbs.end; ) {
    const element = header(q);
    if (element === undefined || element.end > tbs.end) return undefined;
    if (element.tag === 0x30) {
      sequences++;
      if (sequences === 1) {
        if (!has(element.end)) return undefined;
        algorithm = der.subarray(q, element.end);
      }
      if (sequences === 3 && algorithm !== undefined) return { tbsStart: list.contentStart, tbsEnd: tbs.end, algorithm, entriesStart: element.contentStart, entriesEnd: element.end };
    }
    q = element.end;
  }
  return undefined;
}

/** The end of the element whose header is at `p`, or `limit` when its length is not one a walk reads. */
function elementEnd(der: Buffer, p: number, limit: number): number {
  const first = der[p + 1] ?? 0;
  if (first < 0x80) return p + 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) return limit;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + (der[p + 2 + i] ?? 0);
  return p + 2 + octets + length;
}
