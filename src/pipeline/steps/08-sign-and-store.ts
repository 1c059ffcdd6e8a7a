import { certificateFields } from "../../ocsp/certificate-fields.ts";
import type { ResponseCache } from "../../responses/response-cache.ts";
import type { IssuerDirectory, ServedIssuer } from "../../issuers/issuer-directory.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 8 for the cached types: `sign`, then the signed response goes into the response cache
 * when it may be reused: it answers exactly one single request of a served issuer from local
 * validation (not a cache hit being re-signed) and carries no nonce (the sign step gives such a
 * response an HTTP cache window; a nonce-bearing or non-authoritative one has none), and is signed
 * by the issuer's default signer (not one the client's preferred algorithms chose). The cache
 * write is not awaited: a slow shared tier never delays the reply. Errors of `sign` propagate.
 */
export function signAndStoreStep(sign: Step, options: { readonly cache: ResponseCache; readonly issuers: IssuerDirectory }): Step {
  const { cache, issuers } = options;
  const subjects = new Map<ServedIssuer, Buffer>(issuers.all.map((issuer) => [issuer, certificateFields(issuer.certificate).subjectDer]));
  return {
    name: sign.name,
    async run(exchange) {
      await sign.run(exchange);
      const response = exchange.response;
      const requests = exchange.request!.requests;
      if (response?.cacheWindow === undefined || response.forThisClient === true || exchange.source !== "local" || requests.length !== 1) return;
      const certId = requests[0]!.certId;
      const issuer = exchange.servedIssuers![0];
      const answer = exchange.answers![0]!;
      if (issuer === undefined || answer.nextUpdate === undefined) return;
      // The answer and ETag go with the bytes: the cache neither decodes nor hashes them again.
      void cache.put(certId, { body: response.body, thisUpdate: answer.thisUpdate, nextUpdate: answer.nextUpdate, producedAt: response.producedAt, issuerNameDer: subjects.get(issuer)!, single: answer, etag: response.cacheWindow.etag });
    },
  };
}
