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
import { MAX_PROOF_STATUSES, verifiedProofs } from "../../responses/verified-proofs.ts";
import type { RevocationLookup } from "../../trust/revocation-lookup.ts";
import type { CertificateCache } from "../../trust/certificate-cache.ts";
import type { Step } from "../step.ts";

export interface FreshnessProofsOptions {
  /**
   * Vouch's revocation sources as the validation process sees them: a proof about a certificate whose
   * issuer they serve is not used (the sources decide), and a delegated signer they know to be
   * revoked signs no usable proof.
   */
  readonly revocation: Pick<RevocationLookup, "serves" | "status">;
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
 * (SPEC §4) is checked — about certificates whose issuer no revocation source of Vouch serves, signed
 * by an authorized responder for that issuer that Vouch's sources do not know to be revoked, inside
 * its time window and no older than `maxAgeMs` (checkResponse) — and what it says is kept on the
 * exchange (`exchange.freshnessProofs`), where the validation process finds it when step 3
 * authenticates THIS request's signer. Nothing is stored beyond the exchange: a proof never becomes
 * an answer, never enters the response cache, and never changes another request's authentication.
 * A certificate's issuer is looked for among the request's own certificates, the trust anchors and
 * the certificate cache (never among the proof's own certificates). A proof that does not decode or
 * verify, or speaks about a served issuer, is ignored and logged (sampled): never fatal. Rejects only
 * on a fault (not on a bad proof).
 */
export function freshnessProofsStep(options: FreshnessProofsOptions): Step {
  const { revocation, certificates, anchors, maxAgeMs, clock, logger } = options;
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
      // Proofs serve only to authenticate the request's signer: an unsigned request has none to authenticate.
      if (extension === undefined || request.signature === undefined) return;
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
      const signerStatus = (signer: Buffer, issuer: Buffer) => revocation.status(signer, issuer, exchange.signal);
      const now = clock.now();
      const statuses = verifiedProofs();
      for (const [index, entry] of proof.entries()) {
        let basic;
        try {
          basic = decodeBasicOcspResponse(entry.basicDer);
        } catch (error) {
          if (!(error instanceof BadResponseError)) throw error;
          ignored("malformed", { index, detail: error.message }, exchange.clientAddress);
          continue;
        }
        // The issuer's own sources are authoritative: a proof about one of its certificates is never used.
        const served = basic.responses.find((single) => servedIssuer(issuerOf(single.certId), revocation));
        if (served !== undefined) {
          ignored("issuer-served", { index, detail: `serial ${served.certId.serialNumber.toString("hex")}: Vouch's own revocation sources serve its issuer` }, exchange.clientAddress);
          continue;
        }
        const check = await checkResponse(basic, { issuerOf, now, maxAgeMs, signerStatus });
        if (!check.ok) {
          ignored(check.failed, { index, detail: check.detail }, exchange.clientAddress);
          continue;
        }
        for (const single of basic.responses) {
          if (!statuses.add(certificateFields(issuerOf(single.certId)!), single, basic.producedAt)) {
            ignored("too-many", { index, detail: `a request's proofs speak about at most ${MAX_PROOF_STATUSES} certificates` }, exchange.clientAddress);
            break;
          }
        }
      }
      if (statuses.size > 0) exchange.freshnessProofs = statuses;
    },
  };
}

function servedIssuer(issuer: Buffer | undefined, revocation: Pick<RevocationLookup, "serves">): boolean {
  return issuer !== undefined && revocation.serves(issuer);
}

/** The certificate cache's certificates named as `certificate`'s issuer (an unparsable one names none). */
function issuersNamedBy(certificate: Buffer, certificates: CertificateCache): readonly Buffer[] {
  try {
    return certificates.findBySubject(certificateFields(certificate).issuerDer);
  } catch {
    return [];
  }
}
