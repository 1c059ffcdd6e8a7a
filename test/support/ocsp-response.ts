/**
 * Reads OCSP responses with @peculiar/asn1-ocsp (the reference codec, not ours), for tests that
 * check many responses quickly.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicOCSPResponse, OCSPResponse, OCSPResponseStatus } from "@peculiar/asn1-ocsp";

/** The OCSPResponseStatus name ("successful", "malformedRequest", …). */
export function responseStatusName(body: Buffer): string {
  const status = AsnConvert.parse(body, OCSPResponse).responseStatus;
  return OCSPResponseStatus[status] ?? String(status);
}

/** Each SingleResponse's status: "good", "revoked" or "unknown", in order. */
export function certStatuses(body: Buffer): string[] {
  const response = AsnConvert.parse(body, OCSPResponse);
  if (response.responseBytes === undefined) throw new Error(`not successful: ${OCSPResponseStatus[response.responseStatus]}`);
  const basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  return basic.tbsResponseData.responses.map((single) =>
    single.certStatus.good !== undefined ? "good" : single.certStatus.revoked !== undefined ? "revoked" : "unknown",
  );
}
