import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { DecodedBasicResponse, DecodedOcspResponse } from "../ocsp/decode-response.ts";
import type { OcspRequest, SingleResponse } from "../ocsp/types.ts";
import type { OcspErrorStatus } from "../errors.ts";
import { checkResponse, type ResponseCheckFailure, type ResponseCheckOptions } from "../responses/check-response.ts";
import type { NameMatcher } from "../trust/name-match.ts";
import type { IssuerOf } from "./known-issuers.ts";

/** The configurable checks on a forwarded response (SPEC step 6). */
export interface ResponseChecks {
  /** Require a signature by an authorized responder (RFC 6960 §4.2.2.2) or a trusted one. */
  readonly verifySignature: boolean;
  /** Responder certificates trusted for any issuer (RFC 6960 §4.2.2.2 "Trusted Responder"). */
  readonly trustedResponders: readonly Buffer[];
  /** When set, the signer certificate's subject must match one of these DN patterns as well. */
  readonly signerNames: NameMatcher | undefined;
  /** required: the request's nonce must be echoed; ifEchoed: only an echoed nonce is compared. */
  readonly nonce: "required" | "ifEchoed";
  /** Accept `unknown` answers; when false such a response falls to the next method. */
  readonly allowUnknown: boolean;
  /** Allowed clock difference with the remote, in milliseconds. */
  readonly clockSkewMs: number;
  /**
   * What Vouch's own revocation sources say about a delegated signer (checkResponse's `signerStatus`):
   * a response signed by one they know to be revoked is refused, id-pkix-ocsp-nocheck or not.
   */
  readonly signerStatus?: ResponseCheckOptions["signerStatus"];
}

/** Why a forwarded response was not accepted (log and metric label). */
export type Refusal = `remote-${OcspErrorStatus}` | ResponseCheckFailure | "signer-name" | "unknown-answer";

/** A forwarded response that may go back to the client, with its answers in request order (for billing). */
export type Acceptance =
  | { readonly ok: true; readonly basic: DecodedBasicResponse; readonly answers: SingleResponse[] }
  | { readonly ok: false; readonly refused: Refusal; readonly detail: string };

/**
 * Decides whether a remote's decoded response answers `request` acceptably: status `successful`;
 * every CertID of the request answered byte for byte; the request's nonce echoed (with `nonce:
 * ifEchoed`, only compared when the answer has one); every single
 * response inside its time window; with `verifySignature`, signed by an authorized or trusted
 * responder (whose subject matches `signerNames` when set) that is not a delegated signer Vouch's own
 * sources know to be revoked; with `allowUnknown` false, no `unknown` answer. Never rejects.
 */
export async function acceptResponse(response: DecodedOcspResponse, request: OcspRequest, checks: ResponseChecks, issuerOf: IssuerOf, now: number): Promise<Acceptance> {
  if (response.status !== "successful") return { ok: false, refused: `remote-${response.status}`, detail: `the remote answered ${response.status}` };
  const { basic } = response;
  const expectedCertIds = request.requests.map((single) => single.certId.der);
  const expectedNonce = checks.nonce === "ifEchoed" && basic.nonce === undefined ? undefined : request.nonce;
  if (checks.verifySignature) {
    const checked = await checkResponse(basic, {
      issuerOf,
      trustedResponders: checks.trustedResponders,
      now,
      clockSkewMs: checks.clockSkewMs,
      expectedCertIds,
      ...(expectedNonce === undefined ? {} : { expectedNonce }),
      ...(checks.signerStatus === undefined ? {} : { signerStatus: checks.signerStatus }),
    });
    if (!checked.ok) return { ok: false, refused: checked.failed, detail: checked.detail };
    if (checks.signerNames !== undefined && !checks.signerNames.matches(certificateFields(checked.signerCertificate).subjectDer)) {
      return { ok: false, refused: "signer-name", detail: "the signer's subject matches no configured signer name" };
    }
  } else {
    const mismatch = matchesRequest(basic, expectedNonce, now, checks.clockSkewMs);
    if (mismatch !== undefined) return mismatch;
  }
  const answers: SingleResponse[] = [];
  for (const single of request.requests) {
    const answer = basic.responses.find((candidate) => candidate.certId.der.equals(single.certId.der));
    if (answer === undefined) return { ok: false, refused: "certid-mismatch", detail: "the response does not answer a CertID of the request" };
    if (answer.status.kind === "unknown" && !checks.allowUnknown) return { ok: false, refused: "unknown-answer", detail: "the remote answered unknown" };
    answers.push({
      certIdDer: answer.certId.der,
      status: answer.status,
      thisUpdate: answer.thisUpdate,
      nextUpdate: answer.nextUpdate,
      invalidityDate: answer.invalidityDate,
      extensions: answer.extensions,
    });
  }
  return { ok: true, basic, answers };
}

/** The nonce and time-window checks, for when the signature is not verified (CertIDs are matched by the caller). */
function matchesRequest(basic: DecodedBasicResponse, expectedNonce: Buffer | undefined, now: number, skewMs: number): Acceptance | undefined {
  if (expectedNonce !== undefined && (basic.nonce === undefined || !basic.nonce.equals(expectedNonce))) {
    return { ok: false, refused: "nonce-mismatch", detail: "the request's nonce is not echoed" };
  }
  for (const single of basic.responses) {
    if (single.thisUpdate.getTime() > now + skewMs) return { ok: false, refused: "not-yet-valid", detail: `thisUpdate ${single.thisUpdate.toISOString()} is in the future` };
    if (single.nextUpdate !== undefined && single.nextUpdate.getTime() < now - skewMs) {
      return { ok: false, refused: "expired", detail: `nextUpdate ${single.nextUpdate.toISOString()} has passed` };
    }
  }
  return undefined;
}
