/**
 * The one DER reader: requests, responses, certificates and CRLs are all walked by it. It walks a
 * Buffer in place (no copies, no intermediate tree) and rejects anything that is not distinguished
 * encoding: indefinite or non-minimal lengths, high tag numbers, truncation. What differs between
 * the things read is their `DerRules`: the limits, and the one error type every failure is, so a
 * caller maps any decoding problem to one outcome without a catch-all (a request's problem is the
 * client's, a certificate's or a CRL's the operator's). Bounds are checked before every byte access,
 * so no other error can escape on hostile input.
 */
import { isUtf8 } from "node:buffer";
import { MalformedRequestError } from "../errors.ts";

/** Identifier octets Vouch reads, as single bytes (class | constructed | number). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** `[n] EXPLICIT` (and IMPLICIT over a constructed type): context-specific, constructed. */
export function contextConstructed(n: number): number {
  return 0xa0 | n;
}

/** One decoded element: offsets into the reader's buffer, so slicing stays lazy. */
export interface Tlv {
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/** How strictly, and within what bounds, one kind of input is read, and what its failures are. */
export interface DerRules {
  /** Nesting depth of `enter` calls. */
  readonly maxDepth: number;
  /** Total elements read across the whole walk (shared by nested readers). */
  readonly maxElements: number;
  /**
   * Whether a length must be in its shortest form (X.690 §10.1, DER). Only CRLs are read without:
   * the CRL reader before this one accepted longer forms, and a CA's CRL that did would stop loading.
   */
  readonly minimalLengths: boolean;
  /** How a failure's message starts, e.g. "malformed DER" ("… at offset 12 in CertID: …"). */
  readonly label: string;
  /** The error every failure is. */
  readonly error: (message: string) => Error;
}

/**
 * Requests: generous for OCSP (a request nests ~8 deep) yet far below stack or CPU trouble, since a
 * request is small and anything deeper or busier is hostile. Failures are MalformedRequestError.
 */
export const REQUEST_DER: DerRules = {
  maxDepth: 32,
  maxElements: 20_000,
  minimalLengths: true,
  label: "malformed DER",
  error: (message) => new MalformedRequestError(message),
};

/** Lengths beyond 4 octets would exceed any Buffer Vouch accepts; refusing them keeps arithmetic in int range. */
const MAX_LENGTH_OCTETS = 4;

const TAG_NAMES = new Map<number, string>([
  [0x01, "BOOLEAN"],
  [0x02, "INTEGER"],
  [0x03, "BIT STRING"],
  [0x04, "OCTET STRING"],
  [0x05, "NULL"],
  [0x06, "OBJECT IDENTIFIER"],
  [0x0a, "ENUMERATED"],
  [0x17, "UTCTime"],
  [0x18, "GeneralizedTime"],
  [0x30, "SEQUENCE"],
  [0x31, "SET"],
]);

/** A human name for an identifier octet, for error messages ("SEQUENCE", "[0] constructed", "0x13"). */
function tagName(tag: number): string {
  const known = TAG_NAMES.get(tag);
  if (known !== undefined) return known;
  if ((tag & 0xc0) === 0x80) return `[${tag & 0x1f}]${(tag & 0x20) !== 0 ? " constructed" : " primitive"}`;
  return `tag 0x${hex(tag)}`;
}

function hex(octet: number): string {
  return octet.toString(16).padStart(2, "0");
}

/** A shared counter, so that limits hold across nested readers. */
interface Budget {
  elements: number;
}

/**
 * A cursor over the elements between two offsets of one buffer. `enter` opens a child
 * reader over a constructed element's content; `finish` insists nothing is left over,
 * which is how "exactly one X" and "no unknown trailing fields" are enforced.
 */
export class DerReader {
  /** The whole underlying buffer; Tlv offsets index into it. */
  readonly buf: Buffer;
  /** What this reader walks, for error messages ("CertID"). */
  readonly what: string;
  private pos: number;
  private readonly end: number;
  private readonly depth: number;
  private readonly rules: DerRules;
  private readonly budget: Budget;

  private constructor(buf: Buffer, start: number, end: number, what: string, depth: number, rules: DerRules, budget: Budget) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.what = what;
    this.depth = depth;
    this.rules = rules;
    this.budget = budget;
  }

  /** A reader over a whole buffer, to be walked as `what`. */
  static of(buf: Buffer, what: string, rules: DerRules = REQUEST_DER): DerReader {
    return new DerReader(buf, 0, buf.length, what, 0, rules, { elements: 0 });
  }

  /** A reader over `buf[start, end)` (one element of a long list walked elsewhere), to be walked as `what`. */
  static over(buf: Buffer, start: number, end: number, what: string, rules: DerRules): DerReader {
    return new DerReader(buf, start, end, what, 0, rules, { elements: 0 });
  }

  /** Throws the rules' error naming the offset and the structure being read. */
  fail(message: string, at: number = this.pos): never {
    throw this.rules.error(`${this.rules.label} at offset ${at} in ${this.what}: ${message}`);
  }

  /** Throws the rules' error with `message` as it is: for a fault in what the DER says, not in how it is encoded. */
  reject(message: string): never {
    throw this.rules.error(message);
  }

  /** Where the next element starts (the end of the range once it is used up). */
  get offset(): number {
    return this.pos;
  }

  /** Whether elements remain before the end of this reader's range. */
  get hasMore(): boolean {
    return this.pos < this.end;
  }

  /** The next identifier octet without consuming it, or -1 at the end. */
  peekTag(): number {
    return this.pos < this.end ? (this.buf[this.pos] ?? -1) : -1;
  }

  /** Reads the next element, whatever its tag. */
  next(): Tlv {
    const buf = this.buf;
    const start = this.pos;
    const end = this.end;
    if (start >= end) this.fail("expected an element, found the end");
    if (++this.budget.elements > this.rules.maxElements) this.fail(`more than ${this.rules.maxElements} elements`);
    const tag = buf[start] ?? 0;
    // Tag numbers >= 31 need the multi-octet form; nothing in OCSP or X.509 uses them.
    if ((tag & 0x1f) === 0x1f) this.fail("high tag number form is not supported", start);
    let p = start + 1;
    if (p >= end) this.fail("truncated before the length", start);
    const first = buf[p++] ?? 0;
    let length: number;
    if (first < 0x80) {
      length = first;
    } else if (first === 0x80) {
      this.fail("indefinite length is not DER", start);
    } else {
      const count = first & 0x7f;
      if (count > MAX_LENGTH_OCTETS) this.fail(`length of ${count} octets is too large`, start);
      if (p + count > end) this.fail("truncated inside the length", start);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (buf[p + i] ?? 0);
      // DER (X.690 §10.1): the long form only when needed, and with no leading zero octet.
      if ((length < 0x80 || (buf[p] ?? 0) === 0) && this.rules.minimalLengths) this.fail("non-minimal length encoding", start);
      p += count;
    }
    const contentEnd = p + length;
    if (contentEnd > end) this.fail(`${tagName(tag)} of ${length} octets runs past the end (${end - p} left)`, start);
    this.pos = contentEnd;
    return { tag, start, contentStart: p, end: contentEnd };
  }

  /** Reads the next element and insists on its tag; `name` says which field it is. */
  expect(tag: number, name: string): Tlv {
    const found = this.peekTag();
    if (found !== tag) {
      const field = name === this.what ? "" : `${name}: `;
      this.fail(found === -1 ? `missing ${name} (${tagName(tag)})` : `${field}expected ${tagName(tag)}, found ${tagName(found)} (tag 0x${hex(found)} for 0x${hex(tag)})`);
    }
    return this.next();
  }

  /** Reads the next element only if it has this tag (OPTIONAL and DEFAULT fields). */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  /** A child reader over a constructed element's content, one level deeper. */
  enter(tlv: Tlv, what: string): DerReader {
    if ((tlv.tag & 0x20) === 0) this.fail(`${what}: ${tagName(tlv.tag)} is not constructed`, tlv.start);
    if (this.depth + 1 > this.rules.maxDepth) this.fail(`nesting deeper than ${this.rules.maxDepth}`, tlv.start);
    return new DerReader(this.buf, tlv.contentStart, tlv.end, what, this.depth + 1, this.rules, this.budget);
  }

  /** Reads the next element as a constructed `tag` and opens it (the usual SEQUENCE step). */
  enterNext(tag: number, what: string): DerReader {
    return this.enter(this.expect(tag, what), what);
  }

  /** Insists this reader's range is used up: no trailing or unknown fields. */
  finish(): void {
    if (this.pos < this.end) {
      this.fail(`unexpected ${tagName(this.buf[this.pos] ?? 0)} after the last field (${this.end - this.pos} octets left)`);
    }
  }

  /** The whole TLV, sharing memory with the input. */
  whole(tlv: Tlv): Buffer {
    return this.buf.subarray(tlv.start, tlv.end);
  }

  /** The content octets, sharing memory with the input. */
  content(tlv: Tlv): Buffer {
    return this.buf.subarray(tlv.contentStart, tlv.end);
  }

  /** An INTEGER's content octets, checked non-empty and minimal (X.690 §8.3.2). */
  integer(name: string): Buffer {
    const tlv = this.expect(TAG.INTEGER, name);
    this.checkInteger(tlv, name);
    return this.content(tlv);
  }

  /** Validates INTEGER/ENUMERATED content: at least one octet, no redundant leading 0x00/0xff. */
  checkInteger(tlv: Tlv, name: string): void {
    const len = tlv.end - tlv.contentStart;
    if (len === 0) this.fail(`${name}: empty INTEGER`, tlv.start);
    if (len > 1) {
      const a = this.buf[tlv.contentStart] ?? 0;
      const b = this.buf[tlv.contentStart + 1] ?? 0;
      if ((a === 0x00 && b < 0x80) || (a === 0xff && b >= 0x80)) this.fail(`${name}: non-minimal INTEGER`, tlv.start);
    }
  }

  /** A small non-negative INTEGER (versions, enumerations), as a number. */
  smallInteger(tlv: Tlv, name: string): number {
    this.checkInteger(tlv, name);
    const len = tlv.end - tlv.contentStart;
    if (len > 4 || ((this.buf[tlv.contentStart] ?? 0) & 0x80) !== 0) this.fail(`${name}: out of range`, tlv.start);
    let value = 0;
    for (let i = tlv.contentStart; i < tlv.end; i++) value = value * 256 + (this.buf[i] ?? 0);
    return value;
  }

  /** A primitive OCTET STRING's content (constructed strings are BER only). */
  octetString(name: string): Buffer {
    return this.content(this.expect(TAG.OCTET_STRING, name));
  }

  /** A BOOLEAN: DER allows only 0x00 and 0xff. */
  boolean(tlv: Tlv, name: string): boolean {
    if (tlv.end - tlv.contentStart !== 1) this.fail(`${name}: BOOLEAN must be one octet`, tlv.start);
    const v = this.buf[tlv.contentStart] ?? 0;
    if (v !== 0x00 && v !== 0xff) this.fail(`${name}: BOOLEAN must be 0x00 or 0xff in DER`, tlv.start);
    return v === 0xff;
  }

  /** Insists an element is an empty NULL. */
  checkNull(tlv: Tlv, name: string): void {
    if (tlv.tag !== TAG.NULL || tlv.end !== tlv.contentStart) this.fail(`${name}: expected an empty NULL`, tlv.start);
  }

  /**
   * A BIT STRING of whole octets (signatures, keys): the content minus the unused-bits
   * octet, which must be 0 because everything Vouch reads this way is octet-aligned.
   */
  octetAlignedBitString(name: string): Buffer {
    const tlv = this.expect(TAG.BIT_STRING, name);
    if (tlv.end === tlv.contentStart) this.fail(`${name}: BIT STRING without its unused-bits octet`, tlv.start);
    if (this.buf[tlv.contentStart] !== 0) this.fail(`${name}: BIT STRING must have 0 unused bits`, tlv.start);
    return this.buf.subarray(tlv.contentStart + 1, tlv.end);
  }

  /** An OBJECT IDENTIFIER's content, validated; decoding to text is `decodeOid`'s job. */
  oidContent(name: string): Buffer {
    const tlv = this.expect(TAG.OID, name);
    this.checkOid(tlv, name);
    return this.content(tlv);
  }

  /** Validates OID content whatever the tag (so `[8] IMPLICIT OBJECT IDENTIFIER` works too). */
  checkOid(tlv: Tlv, name: string): void {
    if (tlv.end === tlv.contentStart) this.fail(`${name}: empty OBJECT IDENTIFIER`, tlv.start);
    // Each arc is base-128, minimal (no leading 0x80), and the last octet ends an arc.
    let atArcStart = true;
    for (let i = tlv.contentStart; i < tlv.end; i++) {
      const b = this.buf[i] ?? 0;
      if (atArcStart && b === 0x80) this.fail(`${name}: non-minimal OBJECT IDENTIFIER arc`, tlv.start);
      atArcStart = (b & 0x80) === 0;
    }
    if (!atArcStart) this.fail(`${name}: OBJECT IDENTIFIER ends inside an arc`, tlv.start);
  }

  /**
   * Walks an element and everything nested in it, proving it is well-formed DER throughout:
   * for opaque parts Vouch keeps (certificates, attribute values, algorithm parameters),
   * so that anything kept can be handed to any other parser.
   */
  checkDeep(tlv: Tlv, what: string): void {
    const tag = tlv.tag;
    if ((tag & 0x20) === 0) {
      if ((tag & 0xc0) === 0) this.checkUniversalPrimitive(tlv, what);
      return;
    }
    // Universal constructed types other than SEQUENCE/SET are BER's segmented strings.
    if ((tag & 0xc0) === 0 && tag !== TAG.SEQUENCE && tag !== TAG.SET) {
      this.fail(`${what}: constructed ${tagName(tag & 0x1f)} is not DER`, tlv.start);
    }
    const inner = this.enter(tlv, what);
    while (inner.hasMore) inner.checkDeep(inner.next(), what);
  }

  /** The content rules of the universal primitives whose DER form is constrained. */
  private checkUniversalPrimitive(tlv: Tlv, name: string): void {
    // `fail` already names this reader's structure; avoid "in X: X: ...".
    const what = name === this.what ? tagName(tlv.tag) : name;
    switch (tlv.tag) {
      case 0x00:
      case 0x0f:
        this.fail(`${what}: reserved universal tag ${tlv.tag}`, tlv.start);
        break;
      case 0x10:
      case 0x11:
        this.fail(`${what}: primitive ${tlv.tag === 0x10 ? "SEQUENCE" : "SET"} is not DER`, tlv.start);
        break;
      case TAG.BOOLEAN:
        this.boolean(tlv, what);
        break;
      case TAG.INTEGER:
      case TAG.ENUMERATED:
        this.checkInteger(tlv, what);
        break;
      case TAG.BIT_STRING: {
        const length = tlv.end - tlv.contentStart;
        const unused = this.buf[tlv.contentStart] ?? 0;
        if (length === 0) this.fail(`${what}: BIT STRING without its unused-bits octet`, tlv.start);
        if (unused > 7 || (length === 1 && unused !== 0)) this.fail(`${what}: BIT STRING with ${unused} unused bits`, tlv.start);
        break;
      }
      case TAG.NULL:
        this.checkNull(tlv, what);
        break;
      case TAG.OID:
        this.checkOid(tlv, what);
        break;
      // Character strings whose encoding has a fixed shape; others are octets to DER.
      case 0x0c:
        if (!isUtf8(this.content(tlv))) this.fail(`${what}: UTF8String is not valid UTF-8`, tlv.start);
        break;
      case 0x1c:
        if ((tlv.end - tlv.contentStart) % 4 !== 0) this.fail(`${what}: UniversalString length is not a multiple of 4`, tlv.start);
        break;
      case 0x1e:
        if ((tlv.end - tlv.contentStart) % 2 !== 0) this.fail(`${what}: BMPString length is odd`, tlv.start);
        break;
    }
  }
}
