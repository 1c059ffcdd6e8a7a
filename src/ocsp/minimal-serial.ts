/**
 * A serial's INTEGER content without redundant leading octets (0x00 before a byte below 0x80, 0xff
 * before one from 0x80): a certificate with a padded serial (seen in the wild) and a CertID that
 * encodes it minimally name the same certificate. Returns a view of `serial`, not a copy.
 */
export function minimalSerial(serial: Uint8Array): Buffer {
  let start = 0;
  while (start < serial.length - 1 && ((serial[start] === 0x00 && (serial[start + 1] ?? 0) < 0x80) || (serial[start] === 0xff && (serial[start + 1] ?? 0) >= 0x80))) start++;
  return Buffer.from(serial.buffer, serial.byteOffset + start, serial.length - start);
}
