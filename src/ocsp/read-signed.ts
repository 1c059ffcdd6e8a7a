import type { DerRules, Tlv } from "./der-reader.ts";
import { DerReader, TAG } from "./der-reader.ts";

/** A signed X.509 object's three parts, and the reader over them (its Tlvs index into its buffer). */
export interface SignedParts {
  readonly reader: DerReader;
  readonly toBeSigned: Tlv;
  readonly signatureAlgorithm: Tlv;
  readonly signatureValue: Tlv;
}

/**
 * Reads the whole of `der` as the envelope RFC 5280 gives certificates (§4.1) and CRLs (§5.1):
 * `SEQUENCE { toBeSigned SEQUENCE, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }`,
 * nothing before or after. Throws the rules' error otherwise.
 */
export function readSigned(der: Buffer, what: string, toBeSigned: string, rules: DerRules): SignedParts {
  const top = DerReader.of(der, what, rules);
  const reader = top.enterNext(TAG.SEQUENCE, what);
  top.finish();
  const parts = {
    reader,
    toBeSigned: reader.expect(TAG.SEQUENCE, toBeSigned),
    signatureAlgorithm: reader.expect(TAG.SEQUENCE, "signatureAlgorithm"),
    signatureValue: reader.expect(TAG.BIT_STRING, "signatureValue"),
  };
  reader.finish();
  return parts;
}
