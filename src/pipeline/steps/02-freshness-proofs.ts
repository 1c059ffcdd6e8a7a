import type { Clock } from "../../clock.ts";
import { BadResponseError, MalformedRequestError } from "../../errors.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { decodeBasicOcspResponse } from "../../ocsp/decode-response.ts";
import { decodeFreshnessProof, type ProofResponse } from "../../ocsp/freshness-proof.ts";
import { id_identrus_freshness_proof } from "../../ocsp/oids.ts";
import { logSampler } from "../../observability/log-sampler.ts";
import type { Logger } from "../../observability/logger.ts";
import { checkResponse } from "../../responses/check-response.ts";
import { issuerFinder } from "../../responses/issuer-finder.ts";
import type { ResponseCache } from "../../responses/response-cache.ts";
import type { CertificateCache } from "../../trust/certificate-cache.ts";
import type { Step } from "../step.ts";

export interface FreshnessProofsOptions {
  /** Where verified proofs go; the validation process reads it (trust/revocation-lookup.ts). */
  readonly responses: ResponseCache;
  /** The certificate cache and the trust anchors: where the issuers of the proofs' certificates are found. */
  readonly certificates: CertificateCache;
  readonly anchors: readonly Buffer[];
  /** Oldest acceptable thisUpdate of a proof's single responses, as an age in milliseconds. */
  readonly maxAgeMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Log lines about ignored proofs let through per second (default 20). */
  readonly logsPerSecond?: number;
}

/**
 * SPEC step 2 (identrus-cached): each OCSPResponse in the request's freshness-proof extension
 * (SPEC §4) is checked — signed by an authorized responder for its certificate's issuer, inside its
 * time window and no older than `maxAgeMs` (checkResponse) — and put in the response cache, where the
 * validation process of step 3 finds it. A certificate's issuer is looked for among the request's
 * own certificates, the trust anchors and the certificate cache (never among the proof's own
 * certificates). A proof that does not decode or verify, or that cannot be cached (a nonce, several
 * single responses, no nextUpdate) is ignored and logged (sampled): never fatal. Never throws.
 */
export function freshnessProofsStep(options: FreshnessProofsOptions): Step {
  const { responses, certificates, anchors, maxAgeMs, clock, logger } = options;
  const sampler = logSampler(options.logsPerSecond ?? 20, clock);
  const ignored = (reason: string, fields: Record<string, unknown>, client: string) => {
    const dropped = sampler.admit();
    if (dropped !== undefined) logger.info({ step: "freshness-proofs", client, reason, ...fields, ...(dropped > 0 ? { dropped } : {}) }, "freshness proof ignored");
  };
  return {
    name: "freshness-proofs",
    async run(exchange) {
      const request = exchange.request!;
      const extension = request.extensions.find((candidate) => candidate.oid === id_identrus_freshness_proof);
      if (extension === undefined) return;
      let proof: ProofResponse[];
      try {
        proof = decodeFreshnessProof(extension.value);
      } catch (error) {
        if (!(error instanceof MalformedRequestError)) throw error;
        ignored("malformed", { detail: error.message }, exchange.clientAddress);
        return;
      }
      const own = request.signature?.certs ?? [];
      const issuerOf = issuerFinder([...own, ...anchors, ...own.flatMap((certificate) => issuersNamedBy(certificate, certificates))]);
      const now = clock.now();
      for (const [index, entry] of proof.entries()) {
        let basic;
        try {
          basic = decodeBasicOcspResponse(entry.basicDer);
        } catch (error) {
          if (!(error instanceof BadResponseError)) throw error;
          ignored("malformed", { index, detail: error.message }, exchange.clientAddress);
          continue;
        }
        const check = await checkResponse(basic, { issuerOf, now, maxAgeMs });
        if (!check.ok) {
          ignored(check.failed, { index, detail: check.detail }, exchange.clientAddress);
          continue;
        }
        const single = basic.responses[0];
        if (basic.responses.length !== 1 || basic.nonce !== undefined || single?.nextUpdate === undefined) {
          ignored("not-cacheable", { index, detail: "a cached response has one single response with a nextUpdate, and no nonce" }, exchange.clientAddress);
          continue;
        }
        const issuer = issuerOf(single.certId)!;
        await responses.put(single.certId, {
          body: entry.ocspResponseDer,
          thisUpdate: single.thisUpdate,
          nextUpdate: single.nextUpdate,
          issuerNameDer: certificateFields(issuer).subjectDer,
        });
      }
    },
  };
}

/** The certificate cache's certificates named as `certificate`'s issuer (an unparsable one names none). */
function issuersNamedBy(certificate: Buffer, certificates: CertificateCache): readonly Buffer[] {
  try {
    return certificates.findBySubject(certificateFields(certificate).issuerDer);
  } catch {
    return [];
  }
}
