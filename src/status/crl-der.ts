/**
 * The few DER steps a CRL walk needs, kept apart from `ocsp/der-reader.ts` on purpose: that reader
 * guards the request path (MalformedRequestError, an element budget sized for a request), while a
 * CRL is a trusted-but-checked file that may hold millions of elements and whose problems are
 * configuration problems (CrlError, reported with the file's name).
 */

/** A CRL that cannot be used: malformed, unsupported, not from the issuer, or badly signed. */
export class CrlError extends Error {
  override readonly name = "CrlError";
}

/** One element: offsets into the buffer it was read from. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export const TAG_BOOLEAN = 0x01;
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_NULL = 0x05;
export const TAG_OID = 0x06;
export const TAG_ENUMERATED = 0x0a;
export const TAG_UTC_TIME = 0x17;
export const TAG_GENERALIZED_TIME = 0x18;
export const TAG_SEQUENCE = 0x30;

/**
 * Reads the element at `pos`, which must end by `limit`. Throws CrlError naming `what` on
 * truncation, indefinite or over-long lengths, or high tag numbers (none occur in a CRL).
 */
export function readTlv(buf: Buffer, pos: number, limit: number, what: string): Tlv {
  if (pos + 2 > limit) throw new CrlError(`${what}: truncated at offset ${pos}`);
  const tag = buf[pos] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new CrlError(`${what}: high tag number at offset ${pos}`);
  let p = pos + 1;
  const first = buf[p++] ?? 0;
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0) throw new CrlError(`${what}: indefinite length at offset ${pos}`);
    if (count > 4) throw new CrlError(`${what}: length of ${count} octets at offset ${pos}`);
    if (p + count > limit) throw new CrlError(`${what}: truncated length at offset ${pos}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[p + i] ?? 0);
    p += count;
  }
  const end = p + length;
  if (end > limit) throw new CrlError(`${what}: runs past its container at offset ${pos}`);
  return { tag, start: pos, contentStart: p, end };
}

/** Reads an element and insists on its tag. */
export function expectTlv(buf: Buffer, pos: number, limit: number, tag: number, what: string): Tlv {
  const tlv = readTlv(buf, pos, limit, what);
  if (tlv.tag !== tag) {
    throw new CrlError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)} at offset ${pos}`);
  }
  return tlv;
}

/** Whether the OID content at `tlv` equals `content` (compared in place, no decoding). */
export function oidEquals(buf: Buffer, tlv: Tlv, content: Uint8Array): boolean {
  if (tlv.end - tlv.contentStart !== content.length) return false;
  for (let i = 0; i < content.length; i++) if (buf[tlv.contentStart + i] !== content[i]) return false;
  return true;
}

/** A non-negative INTEGER's value (CRL numbers can be 20 octets, hence bigint). */
export function unsignedInteger(buf: Buffer, tlv: Tlv, what: string): bigint {
  if (tlv.tag !== TAG_INTEGER || tlv.end === tlv.contentStart) throw new CrlError(`${what}: not an INTEGER`);
  if (((buf[tlv.contentStart] ?? 0) & 0x80) !== 0) throw new CrlError(`${what}: negative`);
  let value = 0n;
  for (let i = tlv.contentStart; i < tlv.end; i++) value = (value << 8n) | BigInt(buf[i] ?? 0);
  return value;
}
