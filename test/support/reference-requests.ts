/**
 * Builds unusual OCSP requests with @peculiar/asn1-ocsp (the reference codec, not ours), starting
 * from a request that `openssl ocsp -reqout` made, so that malformed-input tests do not depend on
 * the encoder under test.
 */
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { Extension } from "@peculiar/asn1-x509";
import { OCSPRequest, TBSRequest, id_pkix_ocsp_nonce } from "@peculiar/asn1-ocsp";

function rebuild(der: Buffer, change: (tbs: TBSRequest) => void): Buffer {
  const parsed = AsnConvert.parse(der, OCSPRequest);
  const tbs = new TBSRequest({ requestList: parsed.tbsRequest.requestList, requestExtensions: parsed.tbsRequest.requestExtensions });
  change(tbs);
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

/** The request with its nonce replaced by `nonce` (RFC 8954: an OCTET STRING inside extnValue). */
export function withNonce(der: Buffer, nonce: Buffer): Buffer {
  return rebuild(der, (tbs) => {
    const others = (tbs.requestExtensions ?? []).filter((extension) => extension.extnID !== id_pkix_ocsp_nonce);
    const value = AsnConvert.serialize(new OctetString(nonce));
    tbs.requestExtensions = [...others, new Extension({ extnID: id_pkix_ocsp_nonce, extnValue: new OctetString(value) })];
  });
}

/** The request with an empty requestList. */
export function withEmptyRequestList(der: Buffer): Buffer {
  return rebuild(der, (tbs) => {
    tbs.requestList = [];
  });
}

/** The request with an extra request extension of an unknown OID, critical or not. */
export function withUnknownExtension(der: Buffer, critical: boolean): Buffer {
  return rebuild(der, (tbs) => {
    const value = new OctetString(Buffer.from([0x05, 0x00]));
    tbs.requestExtensions = [...(tbs.requestExtensions ?? []), new Extension({ extnID: "1.3.6.1.4.1.99999.1", critical, extnValue: value })];
  });
}

/** The request with its (single) CertID's serial number replaced, e.g. to make many distinct requests. */
export function withSerial(der: Buffer, serialHex: string): Buffer {
  return rebuild(der, (tbs) => {
    const serial = Buffer.from(serialHex.length % 2 === 0 ? serialHex : `0${serialHex}`, "hex");
    tbs.requestList[0]!.reqCert.serialNumber = serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.length);
  });
}
