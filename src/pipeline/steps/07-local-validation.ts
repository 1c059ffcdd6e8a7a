import { isPromise, type Awaitable } from "../../awaitable.ts";
import { TryLaterError, assertNever } from "../../errors.ts";
import type { CertId, CertStatus, SingleResponse } from "../../ocsp/types.ts";
import type { Clock } from "../../clock.ts";
import type { StatusAnswer } from "../../status/status-source.ts";
import type { IssuerDirectory, ServedIssuer } from "../../issuers/issuer-directory.ts";
import type { Exchange } from "../exchange.ts";
import type { Step } from "../step.ts";

export interface LocalValidationOptions {
  /** The issuers the responder serves: the first one's identity signs when no served issuer is asked about. */
  readonly issuers: IssuerDirectory;
  /** SPEC §4: what a never-issued certificate is answered with. */
  readonly nonIssued: "unknown" | "revoked";
  readonly clock: Clock;
}

const GOOD: CertStatus = { kind: "good" };
const UNKNOWN: CertStatus = { kind: "unknown" };

/** RFC 6960 §2.2: a non-issued certificate answered "revoked" carries this time and reason. */
const NON_ISSUED_REVOCATION = { kind: "revoked", revokedAt: new Date(0), reason: "certificateHold" } as const satisfies CertStatus;

/** Whether `status` is the non-issued revocation above (its extended-revoke marker must go with it). */
export function isNonIssuedRevocation(status: CertStatus): boolean {
  return status.kind === "revoked" && status.revokedAt.getTime() === NON_ISSUED_REVOCATION.revokedAt.getTime() && status.reason === NON_ISSUED_REVOCATION.reason;
}

/**
 * SPEC step 7: each single request is answered by its issuer's revocation sources. A CertID whose
 * issuer this responder does not serve is answered `unknown` (non-authoritative), signed by the
 * first issuer's signer. Throws TryLaterError when a served issuer has no usable data.
 */
export function localValidationStep(options: LocalValidationOptions): Step {
  const { issuers, clock } = options;
  /** Answers `answers[from..]` in order; synchronous while the sources answer at once. */
  const answerFrom = (exchange: Exchange, answers: SingleResponse[], from: number, now: number): void | Promise<void> => {
    const requests = exchange.request!.requests;
    const served = exchange.servedIssuers!;
    for (let index = from; index < requests.length; index++) {
      const answer = answerLocally(requests[index]!.certId, served[index], now, exchange, options.nonIssued);
      if (isPromise(answer)) {
        return answer.then((settled) => {
          answers[index] = settled;
          return answerFrom(exchange, answers, index + 1, now);
        });
      }
      answers[index] = answer;
    }
    exchange.identity ??= issuers.all[0]!.identity;
    exchange.answers = answers;
    exchange.source = "local";
  };
  return {
    name: "local-validation",
    run(exchange) {
      const answers: SingleResponse[] = new Array<SingleResponse>(exchange.request!.requests.length);
      return answerFrom(exchange, answers, 0, clock.now());
    },
  };
}

/**
 * One single request answered by its issuer's revocation sources (`issuer`: the CertID's served
 * issuer, exchange.servedIssuers): `unknown` and non-authoritative when the issuer is not served, else the sources'
 * answer, the issuer's identity becoming the signer when none is chosen yet. Throws (or rejects with)
 * TryLaterError when a served issuer has no usable data. Synchronous when the sources answer at once.
 */
export function answerLocally(
  certId: CertId,
  issuer: ServedIssuer | undefined,
  now: number,
  exchange: Pick<Exchange, "nonAuthoritative" | "extendedRevoke" | "identity" | "signal">,
  nonIssued: "unknown" | "revoked",
): Awaitable<SingleResponse> {
  if (issuer === undefined) {
    exchange.nonAuthoritative = true;
    return single(certId.der, UNKNOWN, new Date(now), undefined, undefined);
  }
  exchange.identity ??= issuer.identity;
  const answer = issuer.source.status(certId, exchange.signal);
  if (isPromise(answer)) return answer.then((settled) => toSingleResponse(certId.der, settled, issuer, now, exchange, nonIssued));
  return toSingleResponse(certId.der, answer, issuer, now, exchange, nonIssued);
}

/**
 * The SingleResponse for a source's answer (TryLaterError when no source had one): nextUpdate
 * capped at now + the issuer's response validity, a non-issued certificate per the SPEC §4 policy
 * (setting `exchange.extendedRevoke` when revoked).
 */
function toSingleResponse(
  certIdDer: Buffer,
  answer: StatusAnswer | undefined,
  issuer: ServedIssuer,
  now: number,
  exchange: { extendedRevoke: boolean },
  nonIssued: "unknown" | "revoked",
): SingleResponse {
  if (answer === undefined) throw new TryLaterError(`no revocation source has data for issuer ${issuer.name}`);
  // A live source stamps its answer a moment after `now`; measuring from the later of the two keeps
  // nextUpdate − thisUpdate exactly the configured validity (a second-boundary between them gave 1 s less).
  const latest = Math.max(now, answer.thisUpdate.getTime()) + issuer.responseValidityMs;
  const nextUpdate = new Date(answer.nextUpdate === undefined ? latest : Math.min(answer.nextUpdate.getTime(), latest));
  switch (answer.kind) {
    case "good":
      return single(certIdDer, GOOD, answer.thisUpdate, nextUpdate, undefined);
    case "revoked":
      return single(certIdDer, { kind: "revoked", revokedAt: answer.revokedAt, reason: answer.reason }, answer.thisUpdate, nextUpdate, answer.invalidityDate);
    case "unknown":
      return single(certIdDer, UNKNOWN, answer.thisUpdate, nextUpdate, undefined);
    case "not-issued":
      if (nonIssued === "unknown") return single(certIdDer, UNKNOWN, answer.thisUpdate, nextUpdate, undefined);
      exchange.extendedRevoke = true;
      return single(certIdDer, NON_ISSUED_REVOCATION, answer.thisUpdate, nextUpdate, undefined);
    default:
      return assertNever(answer);
  }
}

/** A SingleResponse without extensions. */
function single(certIdDer: Buffer, status: CertStatus, thisUpdate: Date, nextUpdate: Date | undefined, invalidityDate: Date | undefined): SingleResponse {
  return { certIdDer, status, thisUpdate, nextUpdate, invalidityDate, extensions: [] };
}
