/**
 * Distinguished names (RFC 5280 §4.1.2.4) decoded from DER, and rendered as RFC 4514 strings for
 * logs, billing and the name match table. The string form is for people; comparisons work on the
 * decoded structure (see name-compare.ts), never on rendered text, so that an escaped separator
 * inside a value can never pass for a separator.
 */
import { isUtf8 } from "node:buffer";
import { MalformedRequestError } from "../errors.ts";
import { CertificateFormatError } from "../ocsp/certificate-fields.ts";
import { decodeOid } from "../ocsp/der-oid.ts";
import { DerReader, TAG } from "../ocsp/der-reader.ts";
import { attributeShortName } from "./attribute-types.ts";

/** One AttributeTypeAndValue of a Name. */
export interface NameAttribute {
  /** The attribute type, dotted decimal. */
  readonly type: string;
  /** The whole AttributeValue TLV, as encoded in the certificate. */
  readonly valueDer: Buffer;
  /** The value as text when it is a character string Vouch can decode; `undefined` otherwise. */
  readonly text: string | undefined;
}

/** One RelativeDistinguishedName: usually one attribute, several for a multi-valued RDN. */
export type NameRdn = readonly NameAttribute[];

/**
 * The RDNs of a DER Name, in DER order (most general first, e.g. C, O, CN), each RDN's attributes
 * in DER order. Throws CertificateFormatError when `nameDer` is not exactly one well-formed Name.
 */
export function decodeName(nameDer: Buffer): readonly NameRdn[] {
  try {
    const top = DerReader.of(nameDer, "Name");
    const rdns = top.enterNext(TAG.SEQUENCE, "Name");
    top.finish();
    const result: NameRdn[] = [];
    while (rdns.hasMore) {
      const rdn = rdns.enterNext(TAG.SET, "RelativeDistinguishedName");
      if (!rdn.hasMore) rdn.fail("empty RelativeDistinguishedName");
      const attributes: NameAttribute[] = [];
      while (rdn.hasMore) {
        const atv = rdn.enterNext(TAG.SEQUENCE, "AttributeTypeAndValue");
        const type = decodeOid(atv.oidContent("type"));
        const valueTlv = atv.next();
        atv.checkDeep(valueTlv, "AttributeValue");
        atv.finish();
        attributes.push({ type, valueDer: atv.whole(valueTlv), text: decodeString(valueTlv.tag, atv.content(valueTlv)) });
      }
      result.push(attributes);
    }
    return result;
  } catch (error) {
    if (error instanceof MalformedRequestError) throw new CertificateFormatError(error.message.replace("malformed DER", "bad Name DER"), { cause: error });
    throw error;
  }
}

/**
 * The RFC 4514 string of a DER Name: most specific RDN first (`CN=Alice,O=Acme,C=SE`), short names
 * from attribute-types.ts, other types as dotted OIDs with `#`-hex values (RFC 4514 §2.4), values
 * that are not decodable character strings as `#`-hex too, multi-valued RDNs joined with `+`.
 * Control characters are hex-escaped as well, so that a rendered name is safe in a log line.
 * Throws CertificateFormatError when `nameDer` is not a well-formed Name.
 */
export function distinguishedName(nameDer: Buffer): string {
  return renderName(decodeName(nameDer));
}

/** The RFC 4514 string of decoded RDNs (in DER order, as decodeName returns them). */
export function renderName(rdns: readonly NameRdn[]): string {
  return rdns
    .toReversed()
    .map((rdn) => rdn.map(renderAttribute).join("+"))
    .join(",");
}

function renderAttribute(attribute: NameAttribute): string {
  const name = attributeShortName(attribute.type);
  if (name === undefined || attribute.text === undefined) return `${name ?? attribute.type}=#${attribute.valueDer.toString("hex")}`;
  return `${name}=${escapeValue(attribute.text)}`;
}

/** RFC 4514 §2.4 characters that are always escaped with a backslash. */
const ALWAYS_ESCAPED = new Set(['"', "+", ",", ";", "<", ">", "\\"]);

/** RFC 4514 §2.4 escaping, plus `\XX` for C0/C1 controls and DEL (log safety; RFC 4514 allows it). */
function escapeValue(text: string): string {
  const chars = Array.from(text);
  let out = "";
  chars.forEach((char, index) => {
    const code = char.codePointAt(0) ?? 0;
    if (ALWAYS_ESCAPED.has(char)) {
      out += `\\${char}`;
    } else if ((index === 0 && (char === " " || char === "#")) || (index === chars.length - 1 && char === " ")) {
      out += `\\${char}`;
    } else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      for (const octet of Buffer.from(char, "utf8")) out += `\\${octet.toString(16).padStart(2, "0")}`;
    } else {
      out += char;
    }
  });
  return out;
}

/**
 * Text of the X.509 character string types (DirectoryString and the IA5/Printable strings of
 * emailAddress, C, DC); `undefined` for other types and for content that is not valid in its type,
 * which then renders and compares as DER.
 */
function decodeString(tag: number, content: Buffer): string | undefined {
  switch (tag) {
    case 0x0c: // UTF8String
      return isUtf8(content) ? content.toString("utf8") : undefined;
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return content.every((octet) => octet < 0x80) ? content.toString("latin1") : undefined;
    case 0x14: // TeletexString: in practice Latin-1, which is how OpenSSL and browsers read it.
      return content.toString("latin1");
    case 0x1e: {
      // BMPString: UTF-16BE.
      if (content.length % 2 !== 0) return undefined;
      const swapped = Buffer.from(content).swap16();
      const text = swapped.toString("utf16le");
      return text.isWellFormed() ? text : undefined;
    }
    case 0x1c: {
      // UniversalString: UTF-32BE.
      if (content.length % 4 !== 0) return undefined;
      let text = "";
      for (let i = 0; i < content.length; i += 4) {
        const code = content.readUInt32BE(i);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
        text += String.fromCodePoint(code);
      }
      return text;
    }
    default:
      return undefined;
  }
}
