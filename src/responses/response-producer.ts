import type { CertId } from "../ocsp/types.ts";
import type { ResponseToCache } from "./response-cache.ts";

/**
 * Makes a fresh response for one CertID in the background (SPEC §6 renewing and pre-production):
 * local validation and signing for locally served issuers (pipeline/local-response-producer.ts), or
 * the back-end client for forwarded issuers (the forwarding step can offer one: see
 * compose/build-response-cache.ts `producers`).
 */
export interface ResponseProducer {
  /**
   * A response ready to cache (no nonce, one single response), or `undefined` when this producer does
   * not serve the CertID's issuer. Rejects (e.g. TryLaterError) when it serves it but cannot answer now.
   */
  produce(id: CertId, signal: AbortSignal): Promise<ResponseToCache | undefined>;
}

/** Asks `producers` in order; the first that serves the issuer answers (its rejection included). */
export function firstProducer(producers: readonly ResponseProducer[]): ResponseProducer {
  const list = [...producers];
  return {
    async produce(id, signal) {
      for (const producer of list) {
        const response = await producer.produce(id, signal);
        if (response !== undefined) return response;
      }
      return undefined;
    },
  };
}
