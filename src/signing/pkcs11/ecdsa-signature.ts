import { sequence, tlv } from "../../ocsp/der-writer.ts";

/**
 * Converts a PKCS#11 ECDSA signature, the raw concatenation r || s of two equal-length big-endian
 * integers (PKCS#11 v2.40 §2.3.1, the IEEE P1363 form), into the DER that X.509 and OCSP carry:
 *
 * ```asn1
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }   -- RFC 3279 §2.2.3
 * ```
 * Throws RangeError when `raw` is empty or of odd length (not a PKCS#11 ECDSA signature).
 */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError(`an ECDSA signature from the token has ${raw.length} octets; r || s needs an even, non-zero length`);
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

/** INTEGER from unsigned big-endian octets: leading zeros stripped, one 0x00 added when the top bit is set. */
function unsignedInteger(octets: Buffer): Buffer {
  let start = 0;
  while (start < octets.length - 1 && octets[start] === 0) start++;
  const trimmed = octets.subarray(start);
  return (trimmed[0]! & 0x80) !== 0 ? tlv(0x02, Buffer.of(0), trimmed) : tlv(0x02, trimmed);
}
