import type { DerReader, Tlv } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";

/** A non-negative INTEGER's value (CRL numbers can be 20 octets, hence bigint). */
export function unsignedInteger(reader: DerReader, tlv: Tlv, what: string): bigint {
  if (tlv.tag !== TAG.INTEGER || tlv.end === tlv.contentStart) reader.reject(`${what}: not an INTEGER`);
  const buf = reader.buf;
  if (((buf[tlv.contentStart] ?? 0) & 0x80) !== 0) reader.reject(`${what}: negative`);
  let value = 0n;
  for (let i = tlv.contentStart; i < tlv.end; i++) value = (value << 8n) | BigInt(buf[i] ?? 0);
  return value;
}
