/**
 * A DER element's header read from the octets there are, without the strict reader
 * (ocsp/der-reader.ts): for walks over a CRL's first octets (which CA issued a file, where a
 * download's parts lie) and over its entries (counting them, waiting for them to arrive). Lengths
 * these walks read are definite and of at most 4 octets; any other is "not one read here".
 */

/** An element's tag, where its content starts, and its length. */
export interface DerHeader {
  readonly tag: number;
  readonly contentStart: number;
  readonly length: number;
}

/** The header of the element at `at`; `undefined` past the octets there are, or for a length not read here. */
export function derHeader(der: Buffer, at: number): DerHeader | undefined {
  if (at + 2 > der.length) return undefined;
  const first = der[at + 1]!;
  const octets = first < 0x80 ? 0 : first & 0x7f;
  if (at + 2 + octets > der.length) return undefined;
  const end = derElementEnd(der, at);
  if (end < 0) return undefined;
  const contentStart = at + 2 + octets;
  return { tag: der[at]!, contentStart, length: end - contentStart };
}

/**
 * The end of the element at `p`, or -1 for a length not read here. Allocates nothing (a loop over a
 * million entries calls it); octets past `der`'s end read as 0, so the caller bounds what it uses.
 */
export function derElementEnd(der: Buffer, p: number): number {
  const first = der[p + 1] ?? 0;
  if (first < 0x80) return p + 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) return -1;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + (der[p + 2 + i] ?? 0);
  return p + 2 + octets + length;
}
