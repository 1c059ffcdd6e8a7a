/**
 * The canonical key under which every status source files a certificate serial, so that a
 * CertID's INTEGER octets, an index.txt hex field and a CRL entry all meet in one Map:
 * upper-case hex of the serial's magnitude, no leading zeros, and a leading "-" for the
 * (non-conforming, RFC 5280 §4.1.2.2) negative serials some old CAs issued. Negative serials
 * are kept rather than rejected because `openssl ca` writes them the same way ("-" + hex)
 * and refusing them would make such a certificate unanswerable instead of correctly answered.
 */

/** A canonical serial key ("1A2B", "-80"); build one only with the functions below. */
export type SerialKey = string;

/**
 * The key of an INTEGER's content octets (two's complement, big-endian) as found in a CertID or
 * a CRL entry. Redundant leading 0x00 octets are ignored (`00 00 AB CD` matches `00 AB CD`), so a
 * client that pads a serial still finds it. A set top bit means a negative number: the key is
 * "-" and the magnitude. Empty content (not a valid INTEGER) yields "" which matches nothing.
 */
export function serialKeyFromInteger(content: Buffer): SerialKey {
  if (content.length === 0) return "";
  if (((content[0] ?? 0) & 0x80) === 0) {
    let start = 0;
    while (start < content.length - 1 && content[start] === 0) start++;
    return hexUpper(content, start, content.length);
  }
  // Two's complement negation: invert and add one, from the least significant octet.
  const magnitude = Buffer.allocUnsafe(content.length);
  let carry = 1;
  for (let i = content.length - 1; i >= 0; i--) {
    const v = ((~(content[i] ?? 0)) & 0xff) + carry;
    magnitude[i] = v & 0xff;
    carry = v >> 8;
  }
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  return `-${hexUpper(magnitude, start, magnitude.length)}`;
}

/**
 * A serial as Vouch writes it for people and records (billing, logs, `vouch store`, `vouch query`):
 * upper-case hex of the magnitude in whole octets, without a sign octet, as `openssl x509 -serial`
 * prints it ("05", "0ABC", "80112233" for the DER content 00 80 11 22 33, "00" for zero), and a
 * leading "-" for a negative serial, as openssl prints one. Empty content (not an INTEGER) gives "".
 */
export function serialText(content: Buffer): string {
  const key = serialKeyFromInteger(content);
  const negative = key.startsWith("-");
  const digits = negative ? key.slice(1) : key;
  return `${negative ? "-" : ""}${digits.length % 2 === 1 ? `0${digits}` : digits}`;
}

/**
 * The key of a hex serial as index.txt (`openssl ca`) and configuration write it: any case, any
 * leading zeros, an optional leading "-" (openssl's form for a negative serial). Returns
 * `undefined` when the text is not hex, so callers can report the offending line.
 */
export function serialKeyFromHex(text: string): SerialKey | undefined {
  const negative = text.startsWith("-");
  const digits = negative ? text.slice(1) : text;
  if (!/^[0-9A-Fa-f]+$/.test(digits)) return undefined;
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 0x30) start++;
  const body = digits.slice(start).toUpperCase();
  // "-0" is zero, which has no sign; keep one canonical form for it.
  if (negative && body !== "0") return `-${body}`;
  return body;
}

/**
 * Upper-case hex of `buf[start, end)` without a leading "0" nibble: the octets' leading zero
 * nibble is dropped so that the key matches index.txt's odd-length hex ("ABC" for 0x0ABC).
 */
function hexUpper(buf: Buffer, start: number, end: number): string {
  const hex = buf.toString("hex", start, end).toUpperCase();
  return hex.length > 1 && hex.charCodeAt(0) === 0x30 ? hex.slice(1) : hex;
}

/**
 * The INTEGER content octets (two's complement) of a hex serial as index.txt writes it: any case,
 * leading zeros, optional leading "-". Positive values get a 0x00 octet when their top bit is set,
 * so "AB" is 171, not -85. Returns `undefined` when the text is not hex.
 */
export function serialOctetsFromHex(text: string): Buffer | undefined {
  const key = serialKeyFromHex(text);
  if (key === undefined) return undefined;
  const negative = key.startsWith("-");
  const digits = negative ? key.slice(1) : key;
  const magnitude = Buffer.from(digits.length % 2 === 0 ? digits : `0${digits}`, "hex");
  if (!negative) return (magnitude[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : magnitude;
  // Two's complement of the magnitude, one octet wider so that the sign bit is surely set.
  const out = Buffer.concat([Buffer.of(0), magnitude]);
  let carry = 1;
  for (let i = out.length - 1; i >= 0; i--) {
    const v = ((~(out[i] ?? 0)) & 0xff) + carry;
    out[i] = v & 0xff;
    carry = v >> 8;
  }
  return out;
}
