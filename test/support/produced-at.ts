/** Reads producedAt of an OCSP response with @peculiar/asn1-ocsp (the reference codec, not ours). */
import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicOCSPResponse, OCSPResponse } from "@peculiar/asn1-ocsp";

/** The BasicOCSPResponse's producedAt; throws for an unsuccessful response. */
export function producedAt(body: Buffer): Date {
  const response = AsnConvert.parse(body, OCSPResponse);
  if (response.responseBytes === undefined) throw new Error(`not successful: ${response.responseStatus}`);
  return AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse).tbsResponseData.producedAt;
}
