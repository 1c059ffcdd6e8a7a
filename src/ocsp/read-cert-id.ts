import { decodeOid } from "./der-oid.ts";
import type { DerReader } from "./der-reader.ts";
import { TAG } from "./der-reader.ts";
import { HASH_LENGTHS, hashAlgorithmFromOidContent } from "./hash-algorithms.ts";
import type { CertId } from "./types.ts";

/**
 * Reads the next element of `request` as a CertID (in a Request or a SingleResponse), with the hash
 * algorithm and hash lengths checked so that lookups can trust them. Throws the reader's error.
 */
export function readCertId(request: DerReader, name = "reqCert"): CertId {
  const tlv = request.expect(TAG.SEQUENCE, name);
  const certId = request.enter(tlv, "CertID");
  const algorithm = certId.enterNext(TAG.SEQUENCE, "hashAlgorithm");
  const oid = algorithm.oidContent("hashAlgorithm");
  // OpenSSL sends NULL parameters, others omit them (RFC 5754 §2); anything else is not a hash.
  if (algorithm.hasMore) algorithm.checkNull(algorithm.next(), "hashAlgorithm parameters");
  algorithm.finish();
  const hashAlgorithm = hashAlgorithmFromOidContent(oid);
  if (hashAlgorithm === undefined) return certId.reject(`unsupported CertID hash algorithm ${decodeOid(oid)}`);
  const expected = HASH_LENGTHS[hashAlgorithm];
  const issuerNameHash = certId.octetString("issuerNameHash");
  if (issuerNameHash.length !== expected) {
    certId.reject(`issuerNameHash is ${issuerNameHash.length} octets, ${hashAlgorithm} needs ${expected}`);
  }
  const issuerKeyHash = certId.octetString("issuerKeyHash");
  if (issuerKeyHash.length !== expected) {
    certId.reject(`issuerKeyHash is ${issuerKeyHash.length} octets, ${hashAlgorithm} needs ${expected}`);
  }
  const serialNumber = certId.integer("serialNumber");
  certId.finish();
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber, der: request.whole(tlv) };
}
