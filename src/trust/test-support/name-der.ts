/**
 * Test support (not a test): hand-built DER Names, for encodings openssl will not produce on
 * request (BMPString, UniversalString, unknown types, unsorted multi-valued RDNs).
 */
import { oid, sequence, tlv } from "../../ocsp/der-writer.ts";

/** An AttributeTypeAndValue with an already encoded value TLV. */
export function atv(type: string, value: Buffer): Buffer {
  return sequence(oid(type), value);
}

/** A RelativeDistinguishedName of the given attributes, in the given order. */
export function rdn(...attributes: readonly Buffer[]): Buffer {
  return tlv(0x31, ...attributes);
}

/** A Name of the given RDNs, in DER order (most general first). */
export function name(...rdns: readonly Buffer[]): Buffer {
  return sequence(...rdns);
}

/** UTF8String. */
export const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, "utf8"));
/** PrintableString (the text is not checked against its alphabet: tests need bad ones too). */
export const printable = (text: string): Buffer => tlv(0x13, Buffer.from(text, "latin1"));
/** IA5String. */
export const ia5 = (text: string): Buffer => tlv(0x16, Buffer.from(text, "latin1"));
/** TeletexString, written as Latin-1. */
export const teletex = (text: string): Buffer => tlv(0x14, Buffer.from(text, "latin1"));
/** BMPString (UTF-16BE). */
export const bmp = (text: string): Buffer => tlv(0x1e, Buffer.from(text, "utf16le").swap16());
/** UniversalString (UTF-32BE). */
export const universal = (text: string): Buffer => {
  const points = Array.from(text, (char) => char.codePointAt(0) ?? 0);
  const content = Buffer.alloc(points.length * 4);
  points.forEach((point, i) => content.writeUInt32BE(point, i * 4));
  return tlv(0x1c, content);
};

/** Attribute type OIDs, for readable tables. */
export const T = {
  CN: "2.5.4.3",
  C: "2.5.4.6",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  SERIALNUMBER: "2.5.4.5",
  DC: "0.9.2342.19200300.100.1.25",
  UID: "0.9.2342.19200300.100.1.1",
  emailAddress: "1.2.840.113549.1.9.1",
} as const;

/** `C=SE, O=<o>, CN=<cn>` as UTF8Strings (C as PrintableString), the usual shape. */
export function acmeName(cn: string, o = "Acme"): Buffer {
  return name(rdn(atv(T.C, printable("SE"))), rdn(atv(T.O, utf8(o))), rdn(atv(T.CN, utf8(cn))));
}
