/**
 * AlgorithmIdentifier reading (RFC 5280 §4.1.1.2). Vouch keeps the whole TLV so that a
 * signature algorithm can be echoed or compared byte for byte; only the OID is decoded.
 */
import { decodeOid } from "./der-oid.ts";
import type { DerReader } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";
import type { AlgorithmIdentifier } from "./types.ts";

/**
 * Reads `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }`;
 * the parameters, if any, must be one well-formed DER element.
 */
export function readAlgorithmIdentifier(reader: DerReader, name: string): AlgorithmIdentifier {
  const tlv = reader.expect(TAG.SEQUENCE, name);
  const inner = reader.enter(tlv, name);
  const oid = decodeOid(inner.oidContent(`${name}.algorithm`));
  if (inner.hasMore) inner.checkDeep(inner.next(), `${name}.parameters`);
  inner.finish();
  return { oid, der: reader.whole(tlv) };
}
