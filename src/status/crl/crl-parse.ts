/**
 * A lazy walk over a CRL's DER (RFC 5280 §5.1): the header fields are read at once, the
 * revokedCertificates list is only located (its entries are walked by `crl-entries.ts`, in
 * slices, so a million-entry CRL never blocks the event loop in one go).
 *
 * ```asn1
 * CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
 * TBSCertList ::= SEQUENCE {
 *   version Version OPTIONAL, signature AlgorithmIdentifier, issuer Name,
 *   thisUpdate Time, nextUpdate Time OPTIONAL,
 *   revokedCertificates SEQUENCE OF SEQUENCE { ... } OPTIONAL,
 *   crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 * ```
 */
import { decodeOid } from "../../ocsp/der-oid.ts";
import { contextConstructed, DerReader, TAG, type Tlv } from "../../ocsp/der-reader.ts";
import { readSigned } from "../../ocsp/read-signed.ts";
import { unsignedInteger } from "../../ocsp/der-unsigned.ts";
import { parseDerTime } from "../../ocsp/der-time.ts";
import {
  id_ce_authorityKeyIdentifier,
  id_ce_cRLNumber,
  id_ce_deltaCRLIndicator,
  id_ce_freshestCRL,
  id_ce_issuingDistributionPoint,
} from "../../ocsp/oids.ts";
import { CRL_DER } from "./crl-error.ts";
import { freshestCrlUrls } from "./freshest-crl.ts";

/** The CRL's header; Buffers share memory with the input. Times are milliseconds since the epoch. */
export interface ParsedCrl {
  /** The whole CRL DER this was read from. */
  readonly der: Buffer;
  /** 1 or 2 (the field's value plus one). */
  readonly version: number;
  /** The exact tbsCertList TLV: what the signature covers. */
  readonly tbsDer: Buffer;
  /** The outer signatureAlgorithm AlgorithmIdentifier TLV (checked equal to the inner one). */
  readonly signatureAlgorithmDer: Buffer;
  /** The signature BIT STRING's octets. */
  readonly signature: Buffer;
  /** The issuer Name TLV. */
  readonly issuerDer: Buffer;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  /** cRLNumber (2.5.29.20), when present. */
  readonly crlNumber: bigint | undefined;
  /** deltaCRLIndicator's BaseCRLNumber (2.5.29.27): set only on a delta CRL. */
  readonly baseCrlNumber: bigint | undefined;
  /** The authorityKeyIdentifier extension's value DER, when present. */
  readonly authorityKeyIdentifierDer: Buffer | undefined;
  /** The URIs a freshestCRL extension (2.5.29.46) names for delta CRLs (none without one). */
  readonly freshestCrl: readonly string[];
  /** Offsets of the revokedCertificates content in `der` (an empty range when absent). */
  readonly entriesStart: number;
  readonly entriesEnd: number;
}

/**
 * Reads a CRL's header from its DER. Throws CrlError when the structure is not a CRL, when the
 * inner and outer signature algorithms differ, or when a critical extension is not supported:
 * issuingDistributionPoint (partitioned or indirect CRLs would need scope checks Vouch does not
 * do) or anything unknown. The entries are not read here (see `readCrlEntries`).
 */
export function parseCrl(der: Buffer): ParsedCrl {
  const { reader: list, toBeSigned: tbsTlv, signatureAlgorithm, signatureValue } = readSigned(der, "CertificateList", "tbsCertList", CRL_DER);
  if (signatureValue.end === signatureValue.contentStart || der[signatureValue.contentStart] !== 0) list.reject("signatureValue: must be whole octets");

  const tbs = list.enter(tbsTlv, "tbsCertList");
  let version = 1;
  let field = tbs.next();
  if (field.tag === TAG.INTEGER) {
    if (field.end - field.contentStart !== 1 || der[field.contentStart] !== 1) tbs.reject("version: only v2 (1) may be written");
    version = 2;
    field = tbs.next();
  }
  if (field.tag !== TAG.SEQUENCE) tbs.reject("signature: expected an AlgorithmIdentifier");
  if (!tbs.whole(field).equals(list.whole(signatureAlgorithm))) tbs.reject("signature: tbsCertList.signature differs from signatureAlgorithm (RFC 5280 §5.1.1.2)");
  const issuer = tbs.expect(TAG.SEQUENCE, "issuer");
  const thisUpdate = time(tbs, tbs.next(), "thisUpdate");
  let nextUpdate: number | undefined;
  let entries: Tlv | undefined;
  let extensions: Tlv | undefined;
  while (tbs.hasMore) {
    const next = tbs.next();
    if ((next.tag === TAG.UTC_TIME || next.tag === TAG.GENERALIZED_TIME) && nextUpdate === undefined && entries === undefined) {
      nextUpdate = time(tbs, next, "nextUpdate");
    } else if (next.tag === TAG.SEQUENCE && entries === undefined && extensions === undefined) {
      entries = next;
    } else if (next.tag === contextConstructed(0) && extensions === undefined) {
      extensions = next;
    } else {
      tbs.reject(`tbsCertList: unexpected tag 0x${next.tag.toString(16)} at offset ${next.start}`);
    }
  }
  if (version === 1 && extensions !== undefined) tbs.reject("crlExtensions: a v1 CRL cannot have extensions");

  const ext = extensions === undefined ? undefined : readCrlExtensions(tbs.enter(extensions, "crlExtensions"));
  return {
    der,
    version,
    tbsDer: list.whole(tbsTlv),
    signatureAlgorithmDer: list.whole(signatureAlgorithm),
    signature: der.subarray(signatureValue.contentStart + 1, signatureValue.end),
    issuerDer: tbs.whole(issuer),
    thisUpdate,
    nextUpdate,
    crlNumber: ext?.crlNumber,
    baseCrlNumber: ext?.baseCrlNumber,
    authorityKeyIdentifierDer: ext?.authorityKeyIdentifierDer,
    freshestCrl: ext?.freshestCrl ?? [],
    entriesStart: entries?.contentStart ?? 0,
    entriesEnd: entries?.end ?? 0,
  };
}

interface CrlExtensions {
  crlNumber: bigint | undefined;
  baseCrlNumber: bigint | undefined;
  authorityKeyIdentifierDer: Buffer | undefined;
  freshestCrl: readonly string[];
}

function readCrlExtensions(wrapper: DerReader): CrlExtensions {
  const result: CrlExtensions = { crlNumber: undefined, baseCrlNumber: undefined, authorityKeyIdentifierDer: undefined, freshestCrl: [] };
  const list = wrapper.enterNext(TAG.SEQUENCE, "crlExtensions");
  wrapper.finish();
  const seen = new Set<string>();
  while (list.hasMore) {
    const extension = readExtension(list, "crlExtensions");
    if (seen.has(extension.oid)) list.reject(`crlExtensions: ${extension.oid} appears twice`);
    seen.add(extension.oid);
    switch (extension.oid) {
      case id_ce_cRLNumber:
        result.crlNumber = integerExtension(list, extension, "cRLNumber");
        break;
      case id_ce_deltaCRLIndicator:
        result.baseCrlNumber = integerExtension(list, extension, "deltaCRLIndicator");
        break;
      case id_ce_authorityKeyIdentifier:
        result.authorityKeyIdentifierDer = list.content(extension.value);
        break;
      case id_ce_freshestCRL:
        // Non-critical and only a pointer: a broken one loses the deltas, not the CRL.
        try {
          result.freshestCrl = freshestCrlUrls(list.buf, extension.value.contentStart, extension.value.end);
        } catch {
          result.freshestCrl = [];
        }
        break;
      case id_ce_issuingDistributionPoint:
        // RFC 5280 §5.2.5: always critical; its scope (partitions, indirect CRLs, onlySome reasons)
        // would have to be checked against each certificate, which Vouch does not do.
        if (extension.critical) list.reject("unsupported critical extension issuingDistributionPoint (2.5.29.28)");
        break;
      default:
        if (extension.critical) list.reject(`unsupported critical extension ${extension.oid}`);
    }
  }
  return result;
}

/** One Extension: its dotted OID (only when asked), the extnID TLV, criticality, and the extnValue OCTET STRING's TLV. */
export interface ExtensionTlv {
  readonly oid: string;
  readonly oidTlv: Tlv;
  readonly critical: boolean;
  readonly value: Tlv;
}

/**
 * Reads the next `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue
 * OCTET STRING }` of `list`. The dotted OID is decoded only when `decode` is true (entry walks
 * compare bytes instead). A BOOLEAN other than 0xff is read as FALSE, as before (not DER, but not
 * worth refusing a CRL for).
 */
export function readExtension(list: DerReader, what: string, decode = true): ExtensionTlv {
  const extension = list.enterNext(TAG.SEQUENCE, what);
  const oidTlv = extension.expect(TAG.OID, what);
  let critical = false;
  let field = extension.next();
  if (field.tag === TAG.BOOLEAN) {
    if (field.end - field.contentStart !== 1) extension.reject(`${what}: bad BOOLEAN`);
    critical = list.buf[field.contentStart] === 0xff;
    field = extension.next();
  }
  if (field.tag !== TAG.OCTET_STRING || extension.hasMore) extension.reject(`${what}: bad extnValue`);
  return { oid: decode ? decodeOid(extension.content(oidTlv)) : "", oidTlv, critical, value: field };
}

/** The non-negative INTEGER an extension's extnValue starts with (cRLNumber, deltaCRLIndicator). */
function integerExtension(list: DerReader, extension: ExtensionTlv, what: string): bigint {
  const reader = DerReader.over(list.buf, extension.value.contentStart, extension.value.end, what, CRL_DER);
  return unsignedInteger(reader, reader.expect(TAG.INTEGER, what), what);
}

/** A Time element's value; throws CrlError when it is not UTCTime/GeneralizedTime in DER form. */
export function time(reader: DerReader, tlv: Tlv, what: string): number {
  if (tlv.tag !== TAG.UTC_TIME && tlv.tag !== TAG.GENERALIZED_TIME) reader.reject(`${what}: not a Time`);
  const length = tlv.end - tlv.contentStart;
  if ((tlv.tag === TAG.UTC_TIME) !== (length === 13)) reader.reject(`${what}: not YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ`);
  const ms = parseDerTime(reader.buf, tlv.contentStart, tlv.end);
  if (Number.isNaN(ms)) reader.reject(`${what}: invalid time`);
  return ms;
}
