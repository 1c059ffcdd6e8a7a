/**
 * GeneralName (RFC 5280 §4.2.1.6) as subjectAltName and nameConstraints carry it: the alternative
 * (its context tag) and content, with directoryName decoded. Forms Vouch never compares are kept
 * opaque; name-constraints.ts decides what an unsupported form means.
 */
import type { DerReader } from "../ocsp/der-reader.ts";
import { TAG } from "../ocsp/der-reader.ts";
import type { NameRdn } from "./distinguished-name.ts";
import { decodeName } from "./distinguished-name.ts";

/** The GeneralName alternatives, by identifier octet. */
export const GENERAL_NAME = {
  otherName: 0xa0,
  rfc822Name: 0x81,
  dNSName: 0x82,
  x400Address: 0xa3,
  directoryName: 0xa4,
  ediPartyName: 0xa5,
  uniformResourceIdentifier: 0x86,
  iPAddress: 0x87,
  registeredID: 0x88,
} as const;

/** One GeneralName. */
export interface GeneralName {
  /** The identifier octet (a GENERAL_NAME value). */
  readonly tag: number;
  /** Content octets: the IA5 text, the address octets, or the Name TLV of a directoryName. */
  readonly content: Buffer;
  /** For directoryName: the decoded Name, in DER order. */
  readonly directoryName?: readonly NameRdn[] | undefined;
}

/** NameConstraints (RFC 5280 §4.2.1.10): the base of each subtree, permitted and excluded. */
export interface NameConstraints {
  readonly permitted: readonly GeneralName[];
  readonly excluded: readonly GeneralName[];
}

const IA5_FORMS: ReadonlySet<number> = new Set([GENERAL_NAME.rfc822Name, GENERAL_NAME.dNSName, GENERAL_NAME.uniformResourceIdentifier]);

/** Reads `GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName` (a subjectAltName value). */
export function readGeneralNames(reader: DerReader, what: string): GeneralName[] {
  const sequence = reader.enterNext(TAG.SEQUENCE, what);
  const names: GeneralName[] = [];
  while (sequence.hasMore) names.push(readGeneralName(sequence, what, false));
  if (names.length === 0) sequence.fail(`empty ${what}`);
  return names;
}

/**
 * Reads a NameConstraints value. `minimum` other than 0 and `maximum` are refused (RFC 5280 says
 * they are never used, and a validator that ignored them would widen the constraint).
 */
export function readNameConstraints(reader: DerReader): NameConstraints {
  const sequence = reader.enterNext(TAG.SEQUENCE, "NameConstraints");
  const permitted = readSubtrees(sequence, 0xa0, "permittedSubtrees");
  const excluded = readSubtrees(sequence, 0xa1, "excludedSubtrees");
  sequence.finish();
  if (permitted === undefined && excluded === undefined) sequence.fail("NameConstraints without subtrees");
  return { permitted: permitted ?? [], excluded: excluded ?? [] };
}

function readSubtrees(reader: DerReader, tag: number, what: string): GeneralName[] | undefined {
  const tlv = reader.optional(tag);
  if (tlv === undefined) return undefined;
  const subtrees = reader.enter(tlv, what);
  const bases: GeneralName[] = [];
  while (subtrees.hasMore) {
    const subtree = subtrees.enterNext(TAG.SEQUENCE, "GeneralSubtree");
    bases.push(readGeneralName(subtree, "base", true));
    const minimum = subtree.optional(0x80);
    if (minimum !== undefined && subtree.smallInteger(minimum, "minimum") !== 0) subtree.fail("GeneralSubtree minimum other than 0");
    if (subtree.optional(0x81) !== undefined) subtree.fail("GeneralSubtree maximum is not supported");
    subtree.finish();
  }
  if (bases.length === 0) subtrees.fail(`empty ${what}`);
  return bases;
}

function readGeneralName(reader: DerReader, what: string, inConstraint: boolean): GeneralName {
  const tlv = reader.next();
  const content = reader.content(tlv);
  if (IA5_FORMS.has(tlv.tag)) {
    if (content.some((octet) => octet >= 0x80)) reader.fail(`${what}: IA5String with a non-ASCII octet`, tlv.start);
    return { tag: tlv.tag, content };
  }
  switch (tlv.tag) {
    case GENERAL_NAME.iPAddress: {
      // A SAN holds an address; a constraint holds an address and a mask of the same length.
      const lengths = inConstraint ? [8, 32] : [4, 16];
      if (!lengths.includes(content.length)) reader.fail(`${what}: iPAddress of ${content.length} octets`, tlv.start);
      return { tag: tlv.tag, content };
    }
    case GENERAL_NAME.directoryName: {
      const inner = reader.enter(tlv, what);
      const name = inner.whole(inner.expect(TAG.SEQUENCE, "Name"));
      inner.finish();
      return { tag: tlv.tag, content: name, directoryName: decodeName(name) };
    }
    case GENERAL_NAME.otherName:
    case GENERAL_NAME.x400Address:
    case GENERAL_NAME.ediPartyName:
      if ((tlv.tag & 0x20) === 0) reader.fail(`${what}: a constructed GeneralName alternative is primitive`, tlv.start);
      return { tag: tlv.tag, content };
    case GENERAL_NAME.registeredID:
      reader.checkOid(tlv, `${what} registeredID`);
      return { tag: tlv.tag, content };
    default:
      return reader.fail(`${what}: not a GeneralName alternative`, tlv.start);
  }
}
