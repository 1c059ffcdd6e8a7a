import { decodeOcspRequest } from "../ocsp/decode-request.ts";
import { encodeOcspRequest, encodeTbsRequest } from "../ocsp/encode-request.ts";
import type { CertId } from "../ocsp/types.ts";
import type { ResponseProducer } from "../responses/response-producer.ts";
import type { Forwarder } from "./forwarder.ts";
import { subjectOf } from "./known-issuers.ts";

/** A fresh answer for one certificate from the back end, for background work. */
export interface BackEndAnswer {
  /** The remote's OCSPResponse, exactly as received (it passed the forwarding checks). */
  readonly body: Buffer;
  readonly status: "good" | "revoked" | "unknown";
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly producedAt: Date;
  /** The issuer's certificate, when Vouch knows it. */
  readonly issuer: Buffer | undefined;
}

/**
 * Asks the back end about one CertID the way a client would (one single request, no nonce, so the
 * answer may be cached), through the responder's forwarder: its discovery, breakers and checks.
 * Resolves `undefined` when the request is not forwarded or no remote gave an acceptable answer.
 */
export async function askBackEnd(forwarder: Forwarder, certId: CertId, signal: AbortSignal): Promise<BackEndAnswer | undefined> {
  const der = encodeOcspRequest(encodeTbsRequest({ certIds: [certId.der] }));
  const outcome = await forwarder.forward(decodeOcspRequest(der), der, signal);
  if (outcome.kind !== "answered") return undefined;
  const single = outcome.basic.responses.find((response) => response.certId.der.equals(certId.der));
  if (single === undefined) return undefined;
  return { body: outcome.der, status: single.status.kind, thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate, producedAt: outcome.basic.producedAt, issuer: outcome.issuer };
}

/**
 * SPEC §6 renewing for forwarded issuers: a producer that refreshes a cached response through the back
 * end. Answers `undefined` (the next producer, local signing, is asked) when the back end has no
 * cacheable answer: not forwarded, failed, `unknown`, no nextUpdate, or an issuer Vouch cannot name.
 */
export function backEndProducer(forwarder: Forwarder): ResponseProducer {
  return {
    async produce(id, signal) {
      const answer = await askBackEnd(forwarder, id, signal);
      if (answer === undefined || answer.status === "unknown" || answer.nextUpdate === undefined || answer.issuer === undefined) return undefined;
      return { body: answer.body, thisUpdate: answer.thisUpdate, nextUpdate: answer.nextUpdate, producedAt: answer.producedAt, issuerNameDer: subjectOf(answer.issuer) };
    },
  };
}
