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
import { decodeOid } from "../ocsp/der-oid.ts";
import {
  id_ce_authorityKeyIdentifier,
  id_ce_cRLNumber,
  id_ce_deltaCRLIndicator,
  id_ce_freshestCRL,
  id_ce_issuingDistributionPoint,
} from "../ocsp/oids.ts";
import { parseAsn1Time } from "./asn1-time.ts";
import type { Tlv } from "./crl-der.ts";
import {
  CrlError,
  expectTlv,
  readTlv,
  TAG_BIT_STRING,
  TAG_BOOLEAN,
  TAG_GENERALIZED_TIME,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  TAG_UTC_TIME,
  unsignedInteger,
} from "./crl-der.ts";

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
  /** Whether a freshestCRL extension (2.5.29.46) points to delta CRLs. */
  readonly hasFreshestCrl: boolean;
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
  const outer = expectTlv(der, 0, der.length, TAG_SEQUENCE, "CertificateList");
  if (outer.end !== der.length) throw new CrlError(`CertificateList: ${der.length - outer.end} trailing octets`);
  const tbs = expectTlv(der, outer.contentStart, outer.end, TAG_SEQUENCE, "tbsCertList");
  const signatureAlgorithm = expectTlv(der, tbs.end, outer.end, TAG_SEQUENCE, "signatureAlgorithm");
  const signatureValue = expectTlv(der, signatureAlgorithm.end, outer.end, TAG_BIT_STRING, "signatureValue");
  if (signatureValue.end !== outer.end) throw new CrlError("CertificateList: unexpected field after signatureValue");
  if (signatureValue.end === signatureValue.contentStart || der[signatureValue.contentStart] !== 0) {
    throw new CrlError("signatureValue: must be whole octets");
  }

  let p = tbs.contentStart;
  const limit = tbs.end;
  let version = 1;
  let field = readTlv(der, p, limit, "tbsCertList");
  if (field.tag === TAG_INTEGER) {
    if (field.end - field.contentStart !== 1 || der[field.contentStart] !== 1) throw new CrlError("version: only v2 (1) may be written");
    version = 2;
    p = field.end;
    field = readTlv(der, p, limit, "tbsCertList");
  }
  if (field.tag !== TAG_SEQUENCE) throw new CrlError("signature: expected an AlgorithmIdentifier");
  if (!der.subarray(field.start, field.end).equals(der.subarray(signatureAlgorithm.start, signatureAlgorithm.end))) {
    throw new CrlError("signature: tbsCertList.signature differs from signatureAlgorithm (RFC 5280 §5.1.1.2)");
  }
  p = field.end;
  const issuer = expectTlv(der, p, limit, TAG_SEQUENCE, "issuer");
  p = issuer.end;
  const thisUpdateTlv = readTlv(der, p, limit, "thisUpdate");
  const thisUpdate = time(der, thisUpdateTlv, "thisUpdate");
  p = thisUpdateTlv.end;
  let nextUpdate: number | undefined;
  let entriesStart = 0;
  let entriesEnd = 0;
  let extensions: Tlv | undefined;
  while (p < limit) {
    const next = readTlv(der, p, limit, "tbsCertList");
    p = next.end;
    if ((next.tag === TAG_UTC_TIME || next.tag === TAG_GENERALIZED_TIME) && nextUpdate === undefined && entriesEnd === 0) {
      nextUpdate = time(der, next, "nextUpdate");
    } else if (next.tag === TAG_SEQUENCE && entriesEnd === 0 && extensions === undefined) {
      entriesStart = next.contentStart;
      entriesEnd = next.end;
    } else if (next.tag === 0xa0 && extensions === undefined) {
      extensions = next;
    } else {
      throw new CrlError(`tbsCertList: unexpected tag 0x${next.tag.toString(16)} at offset ${next.start}`);
    }
  }
  if (version === 1 && extensions !== undefined) throw new CrlError("crlExtensions: a v1 CRL cannot have extensions");

  const ext = extensions === undefined ? undefined : readCrlExtensions(der, extensions);
  return {
    der,
    version,
    tbsDer: der.subarray(tbs.start, tbs.end),
    signatureAlgorithmDer: der.subarray(signatureAlgorithm.start, signatureAlgorithm.end),
    signature: der.subarray(signatureValue.contentStart + 1, signatureValue.end),
    issuerDer: der.subarray(issuer.start, issuer.end),
    thisUpdate,
    nextUpdate,
    crlNumber: ext?.crlNumber,
    baseCrlNumber: ext?.baseCrlNumber,
    authorityKeyIdentifierDer: ext?.authorityKeyIdentifierDer,
    hasFreshestCrl: ext?.hasFreshestCrl ?? false,
    entriesStart,
    entriesEnd,
  };
}

interface CrlExtensions {
  crlNumber: bigint | undefined;
  baseCrlNumber: bigint | undefined;
  authorityKeyIdentifierDer: Buffer | undefined;
  hasFreshestCrl: boolean;
}

function readCrlExtensions(der: Buffer, wrapper: Tlv): CrlExtensions {
  const result: CrlExtensions = { crlNumber: undefined, baseCrlNumber: undefined, authorityKeyIdentifierDer: undefined, hasFreshestCrl: false };
  const list = expectTlv(der, wrapper.contentStart, wrapper.end, TAG_SEQUENCE, "crlExtensions");
  if (list.end !== wrapper.end) throw new CrlError("crlExtensions: trailing octets");
  const seen = new Set<string>();
  for (let p = list.contentStart; p < list.end; ) {
    const extension = readExtension(der, p, list.end, "crlExtensions");
    p = extension.end;
    if (seen.has(extension.oid)) throw new CrlError(`crlExtensions: ${extension.oid} appears twice`);
    seen.add(extension.oid);
    const valueEnd = extension.value.end;
    switch (extension.oid) {
      case id_ce_cRLNumber:
        result.crlNumber = unsignedInteger(der, expectTlv(der, extension.value.contentStart, valueEnd, TAG_INTEGER, "cRLNumber"), "cRLNumber");
        break;
      case id_ce_deltaCRLIndicator:
        result.baseCrlNumber = unsignedInteger(
          der,
          expectTlv(der, extension.value.contentStart, valueEnd, TAG_INTEGER, "deltaCRLIndicator"),
          "deltaCRLIndicator",
        );
        break;
      case id_ce_authorityKeyIdentifier:
        result.authorityKeyIdentifierDer = der.subarray(extension.value.contentStart, valueEnd);
        break;
      case id_ce_freshestCRL:
        result.hasFreshestCrl = true;
        break;
      case id_ce_issuingDistributionPoint:
        // RFC 5280 §5.2.5: always critical; its scope (partitions, indirect CRLs, onlySome reasons)
        // would have to be checked against each certificate, which Vouch does not do.
        if (extension.critical) throw new CrlError("unsupported critical extension issuingDistributionPoint (2.5.29.28)");
        break;
      default:
        if (extension.critical) throw new CrlError(`unsupported critical extension ${extension.oid}`);
    }
  }
  return result;
}

/** One Extension: its dotted OID, criticality, and the extnValue OCTET STRING's TLV. */
export interface ExtensionTlv {
  readonly oid: string;
  readonly oidTlv: Tlv;
  readonly critical: boolean;
  readonly value: Tlv;
  readonly end: number;
}

/**
 * Reads `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`
 * at `p`. The dotted OID is decoded only when `decode` is true (entry walks compare bytes instead).
 */
export function readExtension(der: Buffer, p: number, limit: number, what: string, decode = true): ExtensionTlv {
  const sequence = expectTlv(der, p, limit, TAG_SEQUENCE, what);
  const oidTlv = expectTlv(der, sequence.contentStart, sequence.end, TAG_OID, what);
  let q = oidTlv.end;
  let critical = false;
  let field = readTlv(der, q, sequence.end, what);
  if (field.tag === TAG_BOOLEAN) {
    if (field.end - field.contentStart !== 1) throw new CrlError(`${what}: bad BOOLEAN`);
    critical = der[field.contentStart] === 0xff;
    q = field.end;
    field = readTlv(der, q, sequence.end, what);
  }
  if (field.tag !== TAG_OCTET_STRING || field.end !== sequence.end) throw new CrlError(`${what}: bad extnValue`);
  return {
    oid: decode ? decodeOid(der.subarray(oidTlv.contentStart, oidTlv.end)) : "",
    oidTlv,
    critical,
    value: field,
    end: sequence.end,
  };
}

/** A Time element's value; throws CrlError when it is not UTCTime/GeneralizedTime in DER form. */
export function time(der: Buffer, tlv: Tlv, what: string): number {
  if (tlv.tag !== TAG_UTC_TIME && tlv.tag !== TAG_GENERALIZED_TIME) throw new CrlError(`${what}: not a Time`);
  const length = tlv.end - tlv.contentStart;
  if ((tlv.tag === TAG_UTC_TIME) !== (length === 13)) throw new CrlError(`${what}: not YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ`);
  const ms = parseAsn1Time(der, tlv.contentStart, tlv.end);
  if (Number.isNaN(ms)) throw new CrlError(`${what}: invalid time`);
  return ms;
}
