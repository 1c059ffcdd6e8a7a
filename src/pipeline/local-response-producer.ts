import type { Clock } from "../clock.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { CertId, OcspRequest } from "../ocsp/types.ts";
import type { ResponseProducer } from "../responses/response-producer.ts";
import { createExchange } from "./exchange.ts";
import type { IssuerDirectory, ServedIssuer } from "../issuers/issuer-directory.ts";
import type { Step } from "./step.ts";

const EMPTY = Buffer.alloc(0);

/**
 * Background responses for locally served issuers (SPEC §6 renewing and pre-production): the
 * responder's own local-validation and sign steps run on a request for one CertID without a nonce,
 * exactly as a client's would. `undefined` for an issuer this responder does not serve, or an answer
 * that may not be cached (no nextUpdate); rejects with the steps' errors (e.g. TryLaterError for
 * stale data, InternalError for a signer failure).
 */
export function localResponseProducer(options: { readonly issuers: IssuerDirectory; readonly localValidation: Step; readonly sign: Step; readonly clock: Clock }): ResponseProducer {
  const { issuers, localValidation, sign, clock } = options;
  const subjects = new Map<ServedIssuer, Buffer>(issuers.all.map((issuer) => [issuer, certificateFields(issuer.certificate).subjectDer]));
  return {
    async produce(id: CertId, signal: AbortSignal) {
      const issuer = issuers.find(id);
      if (issuer === undefined) return undefined;
      const exchange = createExchange({ received: EMPTY, method: "POST", clientAddress: "background", ifNoneMatch: undefined, signal, startedAt: clock.now() });
      exchange.request = requestFor(id);
      exchange.servedIssuers = [issuer];
      await localValidation.run(exchange);
      await sign.run(exchange);
      const response = exchange.response;
      const answer = exchange.answers?.[0];
      if (response?.cacheWindow === undefined || answer?.nextUpdate === undefined) return undefined;
      return { body: response.body, thisUpdate: answer.thisUpdate, nextUpdate: answer.nextUpdate, producedAt: response.producedAt, issuerNameDer: subjects.get(issuer)!, single: answer, etag: response.cacheWindow.etag };
    },
  };
}

/** What a client's request for `id` without a nonce decodes to. */
function requestFor(id: CertId): OcspRequest {
  return {
    tbsRequestDer: EMPTY,
    requestorName: undefined,
    requests: [{ certId: id, extensions: [] }],
    extensions: [],
    nonce: undefined,
    preferredSignatureAlgorithms: [],
    signature: undefined,
  };
}
