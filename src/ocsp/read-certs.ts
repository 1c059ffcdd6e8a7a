import type { DerReader } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";

/**
 * Reads the optional `certs [0] EXPLICIT SEQUENCE OF Certificate` that ends a request's Signature
 * and a BasicOCSPResponse: each certificate's DER (sharing memory with the input), only checked to
 * be well-formed DER; their X.509 content is the business of whoever verifies with them. Empty when
 * absent. Throws the reader's MalformedRequestError.
 */
export function readOptionalCerts(reader: DerReader): Buffer[] {
  const certs: Buffer[] = [];
  const certsTlv = reader.optional(0xa0);
  if (certsTlv === undefined) return certs;
  const wrapper = reader.enter(certsTlv, "certs");
  const list = wrapper.enterNext(TAG.SEQUENCE, "certs");
  wrapper.finish();
  while (list.hasMore) {
    const cert = list.expect(TAG.SEQUENCE, "Certificate");
    list.checkDeep(cert, "Certificate");
    certs.push(list.whole(cert));
  }
  return certs;
}
