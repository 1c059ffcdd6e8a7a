/**
 * Shape checks for GeneralName and Name (RFC 5280 §4.2.1.6, §4.1.2.4). Vouch keeps these
 * as opaque DER (a requestorName is only logged or matched byte for byte), but it still
 * refuses garbage so that whatever it keeps is something any X.509 parser can read.
 */
import type { DerReader, Tlv } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";

/** The IA5String alternatives: rfc822Name [1], dNSName [2], uniformResourceIdentifier [6]. */
const IA5_NAMES = new Set([0x81, 0x82, 0x86]);

/**
 * Checks `tlv` (read from `reader`) is a GeneralName with plausible content:
 * IA5String alternatives are 7-bit, iPAddress is 4 or 16 octets, registeredID is an OID,
 * directoryName is exactly one Name, otherName is well-formed DER; the obsolete
 * x400Address and ediPartyName are refused.
 */
export function checkGeneralName(reader: DerReader, tlv: Tlv, name: string): void {
  const { tag } = tlv;
  if (IA5_NAMES.has(tag)) {
    for (let i = tlv.contentStart; i < tlv.end; i++) {
      if ((reader.buf[i] ?? 0) >= 0x80) reader.fail(`${name}: IA5String with a non-ASCII octet`, tlv.start);
    }
    return;
  }
  switch (tag) {
    case 0x87: {
      const length = tlv.end - tlv.contentStart;
      if (length !== 4 && length !== 16) reader.fail(`${name}: iPAddress must be 4 or 16 octets`, tlv.start);
      return;
    }
    case 0x88: {
      reader.checkOid(tlv, `${name} registeredID`);
      return;
    }
    case 0xa4: {
      const inner = reader.enter(tlv, `${name} directoryName`);
      checkName(inner, inner.expect(TAG.SEQUENCE, "Name"));
      inner.finish();
      return;
    }
    case 0xa0: {
      // otherName: SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }, IMPLICIT.
      const inner = reader.enter(tlv, `${name} otherName`);
      inner.oidContent("type-id");
      inner.checkDeep(inner.expect(0xa0, "otherName value"), `${name} otherName`);
      inner.finish();
      return;
    }
    case 0xa3:
    case 0xa5:
      // x400Address and ediPartyName: obsolete, unused by OCSP clients, and not worth a parser.
      reader.fail(`${name}: x400Address and ediPartyName are not supported`, tlv.start);
      break;
    default:
      reader.fail(`${name}: not a GeneralName alternative`, tlv.start);
  }
}

/** Checks a Name: SEQUENCE OF non-empty SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }. */
function checkName(reader: DerReader, tlv: Tlv): void {
  const rdns = reader.enter(tlv, "Name");
  while (rdns.hasMore) {
    const rdn = rdns.enterNext(TAG.SET, "RelativeDistinguishedName");
    if (!rdn.hasMore) rdn.fail("empty RelativeDistinguishedName");
    while (rdn.hasMore) {
      const atv = rdn.enterNext(TAG.SEQUENCE, "AttributeTypeAndValue");
      atv.oidContent("type");
      atv.checkDeep(atv.next(), "AttributeValue");
      atv.finish();
    }
  }
}
