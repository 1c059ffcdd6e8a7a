/**
 * OBJECT IDENTIFIER content codec (X.690 §8.19): dotted text <-> base-128 arcs.
 * Shared by the reader and the writer, hence its own file.
 */

/** Encodings are requested for a small fixed set of OIDs over and over; text is the key. */
const encodeCache = new Map<string, Buffer>();
/** A hostile caller must not grow the cache without bound; real use needs a few dozen. */
const MAX_CACHED = 1024;

/**
 * The DER content octets (no tag, no length) of a dotted OID such as "1.3.6.1.5.5.7.48.1.1".
 * Cached; the returned Buffer is shared, so callers must not modify it.
 * Throws RangeError on text that is not an OID: this is for Vouch's own constants and config.
 */
export function encodeOid(dotted: string): Buffer {
  const cached = encodeCache.get(dotted);
  if (cached !== undefined) return cached;
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) throw new RangeError(`not an OBJECT IDENTIFIER: ${JSON.stringify(dotted)}`);
  // BigInt keeps arcs of any size exact (2.25.<uuid> OIDs have 128-bit arcs).
  const arcs = dotted.split(".").map((arc) => BigInt(arc));
  const first = arcs[0] ?? 0n;
  const second = arcs[1] ?? 0n;
  if (first < 2n && second >= 40n) throw new RangeError(`not an OBJECT IDENTIFIER: ${dotted} (second arc must be < 40)`);
  const out: number[] = [];
  const values = [first * 40n + second, ...arcs.slice(2)];
  for (const value of values) {
    const septets: number[] = [Number(value & 0x7fn)];
    for (let v = value >> 7n; v > 0n; v >>= 7n) septets.push(Number(v & 0x7fn) | 0x80);
    for (let i = septets.length - 1; i >= 0; i--) out.push(septets[i] ?? 0);
  }
  const encoded = Buffer.from(out);
  if (encodeCache.size < MAX_CACHED) encodeCache.set(dotted, encoded);
  return encoded;
}

/** Arcs above this switch to BigInt so that `arc * 128` never loses precision. */
const SAFE_ARC = Math.floor(Number.MAX_SAFE_INTEGER / 128);

/**
 * Dotted text of OID content octets. Assumes content already validated by
 * `DerReader.oidContent` (non-empty, minimal arcs, no dangling continuation);
 * on anything else the result is meaningless but it never throws.
 */
export function decodeOid(content: Buffer): string {
  let text = "";
  let value = 0;
  let big: bigint | undefined;
  let firstArc = true;
  for (let i = 0; i < content.length; i++) {
    const b = content[i] ?? 0;
    if (big !== undefined) {
      big = big * 128n + BigInt(b & 0x7f);
    } else if (value > SAFE_ARC) {
      big = BigInt(value) * 128n + BigInt(b & 0x7f);
    } else {
      value = value * 128 + (b & 0x7f);
    }
    if ((b & 0x80) !== 0) continue;
    if (firstArc) {
      // The first subidentifier packs two arcs: 40 * first + second, with first <= 2.
      firstArc = false;
      if (big !== undefined) {
        text = `2.${big - 80n}`;
      } else if (value < 40) {
        text = `0.${value}`;
      } else if (value < 80) {
        text = `1.${value - 40}`;
      } else {
        text = `2.${value - 80}`;
      }
    } else {
      text += `.${big ?? value}`;
    }
    value = 0;
    big = undefined;
  }
  return text;
}
