import { TryLaterError, assertNever } from "../../errors.ts";
import type { CertStatus, SingleResponse } from "../../ocsp/types.ts";
import type { Clock } from "../../clock.ts";
import type { StatusAnswer } from "../../status/status-source.ts";
import type { IssuerDirectory, ServedIssuer } from "../issuer-directory.ts";
import type { Step } from "../step.ts";

export interface LocalValidationOptions {
  readonly issuers: IssuerDirectory;
  /** SPEC §4: what a never-issued certificate is answered with. */
  readonly nonIssued: "unknown" | "revoked";
  readonly clock: Clock;
}

/** RFC 6960 §2.2: a non-issued certificate answered "revoked" carries this time and reason. */
export const NON_ISSUED_REVOCATION: CertStatus = { kind: "revoked", revokedAt: new Date(0), reason: "certificateHold" };

/**
 * SPEC step 7: each single request is answered by its issuer's revocation sources. A CertID whose
 * issuer this responder does not serve is answered `unknown` (non-authoritative), signed by the
 * first issuer's signer. Throws TryLaterError when a served issuer has no usable data.
 */
export function localValidationStep(options: LocalValidationOptions): Step {
  const { issuers, clock } = options;
  return {
    name: "local-validation",
    async run(exchange) {
      const requests = exchange.request!.requests;
      const now = clock.now();
      const answers: SingleResponse[] = new Array<SingleResponse>(requests.length);
      for (let index = 0; index < requests.length; index++) {
        const certId = requests[index]!.certId;
        const issuer = issuers.find(certId);
        if (issuer === undefined) {
          exchange.nonAuthoritative = true;
          answers[index] = single(certId.der, { kind: "unknown" }, new Date(now), undefined, undefined);
          continue;
        }
        exchange.identity ??= issuer.identity;
        const answer = await issuer.source.status(certId, exchange.signal);
        if (answer === undefined) {
          throw new TryLaterError(`no revocation source has data for issuer ${issuer.name}`);
        }
        answers[index] = toSingleResponse(certId.der, answer, issuer, now, exchange, options.nonIssued);
      }
      exchange.identity ??= issuers.all[0]!.identity;
      exchange.answers = answers;
      exchange.source = "local";
    },
  };
}

/**
 * The SingleResponse for a source's answer: nextUpdate capped at now + the issuer's response validity,
 * a non-issued certificate per the SPEC §4 policy (setting `exchange.extendedRevoke` when revoked).
 */
export function toSingleResponse(
  certIdDer: Buffer,
  answer: StatusAnswer,
  issuer: ServedIssuer,
  now: number,
  exchange: { extendedRevoke: boolean },
  nonIssued: "unknown" | "revoked",
): SingleResponse {
  // A live source stamps its answer a moment after `now`; measuring from the later of the two keeps
  // nextUpdate − thisUpdate exactly the configured validity (a second-boundary between them gave 1 s less).
  const latest = Math.max(now, answer.thisUpdate.getTime()) + issuer.responseValidityMs;
  const nextUpdate = new Date(answer.nextUpdate === undefined ? latest : Math.min(answer.nextUpdate.getTime(), latest));
  switch (answer.kind) {
    case "good":
      return single(certIdDer, { kind: "good" }, answer.thisUpdate, nextUpdate, undefined);
    case "revoked":
      return single(certIdDer, { kind: "revoked", revokedAt: answer.revokedAt, reason: answer.reason }, answer.thisUpdate, nextUpdate, answer.invalidityDate);
    case "unknown":
      return single(certIdDer, { kind: "unknown" }, answer.thisUpdate, nextUpdate, undefined);
    case "not-issued":
      if (nonIssued === "unknown") return single(certIdDer, { kind: "unknown" }, answer.thisUpdate, nextUpdate, undefined);
      exchange.extendedRevoke = true;
      return single(certIdDer, NON_ISSUED_REVOCATION, answer.thisUpdate, nextUpdate, undefined);
    default:
      return assertNever(answer);
  }
}

/** A SingleResponse without extensions. */
export function single(certIdDer: Buffer, status: CertStatus, thisUpdate: Date, nextUpdate: Date | undefined, invalidityDate: Date | undefined): SingleResponse {
  return { certIdDer, status, thisUpdate, nextUpdate, invalidityDate, extensions: [] };
}
