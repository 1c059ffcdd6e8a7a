import { MalformedRequestError, OcspError } from "../errors.ts";
import type { IssuerDirectory, ServedIssuer } from "../issuers/issuer-directory.ts";
import { decodeOcspRequest } from "../ocsp/decode-request.ts";
import { checkNonce } from "../ocsp/nonce.ts";
import type { OcspRequest } from "../ocsp/types.ts";

export interface RequestRules {
  readonly maxSingleRequests: number;
  readonly noncePolicy: "optional" | "required" | "ignored";
  readonly nonceMaxLength: number;
}

/**
 * Decodes the received bytes and applies the responder's request rules (SPEC §4): request count and
 * nonce length and policy. Throws MalformedRequestError; nothing else escapes.
 */
export function decodeWithRules(bytes: Buffer, rules: RequestRules): OcspRequest {
  let request: OcspRequest;
  try {
    request = decodeOcspRequest(bytes, { maxRequests: rules.maxSingleRequests });
  } catch (error) {
    if (error instanceof OcspError) throw error;
    throw new MalformedRequestError("not an OCSP request", { cause: error });
  }
  if (rules.noncePolicy !== "ignored") {
    if (request.nonce !== undefined) checkNonce(request.nonce, rules.nonceMaxLength);
    else if (rules.noncePolicy === "required") throw new MalformedRequestError("this responder requires a nonce");
  }
  return request;
}

/**
 * The served issuer of each single request of `request`, in request order (`undefined` where this
 * responder does not serve the CertID's issuer): the one lookup of a request's issuers, made right
 * after decoding; every step reads the result from the exchange (exchange.servedIssuers).
 */
export function servedIssuersOf(request: OcspRequest, issuers: IssuerDirectory): (ServedIssuer | undefined)[] {
  const requests = request.requests;
  const served = new Array<ServedIssuer | undefined>(requests.length);
  // A loop, not `map`: no closure on the hot path.
  for (let index = 0; index < requests.length; index++) served[index] = issuers.find(requests[index]!.certId);
  return served;
}
