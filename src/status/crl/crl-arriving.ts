/**
 * A CRL read while its bytes still arrive (files/arriving-bytes.ts: a download on another loading
 * thread), so that reading a CRL fetched over HTTP overlaps the fetch instead of following it: one
 * thread walks its entries into the table as they come (readArrivingCrl); the downloading thread
 * hashes its octets (SHA-256, for the rollback check) and feeds its tbsCertList to the signature
 * check between socket reads (ArrivingDigest). The CRL's layout is read from its first octets (the
 * entries come before the extensions and the signature). Nothing is answered from the table before
 * the whole CRL has passed every check, reported in a file's order (crl-read.ts: the header, the
 * signature, then the entries); the walk only starts early. A CRL whose start does not look like a
 * DER CRL is read once complete, as a file is.
 *
 * Measured with 1M entries (bench/source-ready.ts): the hash and the signature on the walking
 * thread made it the slower of the two (~0.9 s against a ~0.67 s download).
 */
import { createHash } from "node:crypto";
import type { ArrivingBytes } from "../files/arriving-bytes.ts";
import { awaitArrival } from "../files/arriving-bytes.ts";
import { SerialTableBuilder, type SerialTableParts } from "../table/serial-table.ts";
import { countEntries, readCommonEntry, readCrlEntries, readEntry, TimeCache } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import { derElementEnd, derHeader, type DerHeader } from "./der-header.ts";
import { checkCrlHeader, headerOf, readCheckedCrl, type CheckedCrl, type CrlIssuer } from "./crl-read.ts";
import { arrivingSignatureCheck, type ArrivingSignatureCheck } from "./crl-signature.ts";

/** The table is sized from the entries in this first stretch (all of them in a smaller CRL). */
const SAMPLE_BYTES = 1 << 20;

/** Where a DER CRL's parts lie, read from its first octets. */
export interface CrlLayout {
  readonly tbsStart: number;
  readonly tbsEnd: number;
  /** The tbsCertList's signature AlgorithmIdentifier TLV. */
  readonly algorithm: Buffer;
  /** revokedCertificates' content. */
  readonly entriesStart: number;
  readonly entriesEnd: number;
}

/**
 * Walks the CRL's entries as they arrive, then checks it once complete as readCheckedCrl does but
 * for the signature (the downloading thread checks it as it arrives: ArrivingDigest). Throws
 * CrlError as readCheckedCrl does (a fault in the entries only once the header passed), and an
 * Error when the transfer broke off.
 */
export async function readArrivingCrl(arriving: ArrivingBytes, issuer: CrlIssuer, now: number): Promise<CheckedCrl> {
  const der = arriving.bytes;
  let available = 0;
  const has = (end: number): boolean => {
    if (end <= available) return true;
    available = awaitArrival(arriving, end).filled;
    return available >= end;
  };
  let walked: SerialTableParts | undefined;
  let walkFault: unknown;
  const layout = crlLayout(der, has);
  if (layout !== undefined) {
    try {
      walked = walkEntries(der, layout, has);
    } catch (error) {
      walkFault = error;
    }
  }
  const { filled } = awaitArrival(arriving, Number.POSITIVE_INFINITY);
  const bytes = der.subarray(0, filled);
  if (layout === undefined) return readCheckedCrl(await crlDerOfFile(bytes), issuer, now, { verify: false });
  const crl = checkCrlHeader(bytes, issuer, now, false);
  if (walkFault !== undefined) throw walkFault;
  // The parse of the whole must find the entries where the walk did; if not (never seen), they are walked again.
  const entries = walked !== undefined && crl.entriesStart === layout.entriesStart && crl.entriesEnd === layout.entriesEnd ? walked : readCrlEntries(crl);
  return { ...headerOf(crl), entries };
}

/**
 * A fetched CRL hashed (SHA-256, for the rollback check) and its tbsCertList fed to the signature
 * check as it arrives, on the downloading thread (a read at a time, between socket reads): after
 * the download only the checks of the whole remain.
 */
export class ArrivingDigest {
  readonly #issuer: CrlIssuer;
  readonly #hash = createHash("sha256");
  #layout: CrlLayout | undefined;
  #signature: ArrivingSignatureCheck | undefined;
  /** Octets hashed (and fed to the signature check, within the tbs). */
  #digested = 0;
  /** Whether the layout is known not to be found (not a DER CRL's start). */
  #noLayout = false;

  constructor(issuer: CrlIssuer) {
    this.#issuer = issuer;
  }

  /** The bytes are filled up to `filled`. */
  arrived(bytes: Buffer, filled: number): void {
    if (this.#layout === undefined && !this.#noLayout) {
      let short = false;
      this.#layout = crlLayout(bytes, (end) => {
        if (end > filled) short = true;
        return end <= filled;
      });
      if (this.#layout === undefined && !short) this.#noLayout = true;
      if (this.#layout !== undefined) this.#signature = arrivingSignatureCheck(Buffer.from(this.#layout.algorithm), this.#issuer.publicKey);
      // The signature check starts at the tbs: what was hashed before the layout was known is fed now.
      if (this.#layout !== undefined && this.#digested > this.#layout.tbsStart) this.#signature?.update(bytes.subarray(this.#layout.tbsStart, Math.min(this.#digested, this.#layout.tbsEnd)));
    }
    if (filled <= this.#digested) return;
    this.#hash.update(bytes.subarray(this.#digested, filled));
    const layout = this.#layout;
    if (layout !== undefined) {
      const from = Math.max(this.#digested, layout.tbsStart);
      const to = Math.min(filled, layout.tbsEnd);
      if (from < to) this.#signature?.update(bytes.subarray(from, to));
    }
    this.#digested = filled;
  }

  /** The SHA-256 (hex) of the whole, once every octet arrived. */
  sha256(): string {
    return this.#hash.digest("hex");
  }

  /**
   * Checks the whole CRL (`der`, every octet arrived) as readCheckedCrl does but for its entries,
   * the signature from what was fed. Throws CrlError as readCheckedCrl does.
   */
  check(der: Buffer, now: number): void {
    const crl = checkCrlHeader(der, this.#issuer, now, this.#signature === undefined);
    this.#signature?.verify(crl);
  }
}

/** The entries' table, or `undefined` when the bytes ended first (the parse of the whole words that). */
function walkEntries(der: Buffer, layout: CrlLayout, has: (end: number) => boolean): SerialTableParts | undefined {
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
    if (!has(Math.min(end, p + 6))) return undefined;
    const entryEnd = derElementEnd(der, p);
    if (!has(entryEnd < 0 ? end : Math.min(end, entryEnd))) return undefined;
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
export function crlLayout(der: Buffer, has: (end: number) => boolean): CrlLayout | undefined {
  const header = (at: number): (DerHeader & { end: number }) | undefined => {
    const found = has(at + 6) ? derHeader(der, at) : undefined;
    return found === undefined ? undefined : { ...found, end: found.contentStart + found.length };
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
