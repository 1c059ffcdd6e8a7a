/**
 * The statuses that the verified freshness proofs of ONE request give (SPEC step 2). They live on
 * that request's exchange and die with it: the validation process reads them only while it
 * authenticates that request's signer chain (step 3), and only for certificates whose issuer no
 * revocation source of Vouch serves (trust/revocation-lookup.ts). They never reach the response
 * cache, another request, a TLS handshake or a remembered validation, so a request (signed with
 * junk or not at all) leaves no trace that changes any other answer.
 */
import type { CertificateFields } from "../ocsp/certificate-fields.ts";
import type { DecodedSingleResponse } from "../ocsp/decode-response.ts";
import type { StatusAnswer } from "../status/status-source.ts";
import { minimalSerial } from "../ocsp/minimal-serial.ts";
import type { ProvenStatuses } from "../trust/proven-statuses.ts";
import { compareAge } from "./response-age.ts";

/** What the validation process asks of one request's verified proofs: trust/proven-statuses.ts's port. */
export type VerifiedProofs = ProvenStatuses;

/** The proofs of one request while step 2 collects them. */
export interface VerifiedProofsBuilder extends VerifiedProofs {
  /**
   * Keeps what `single` (from a response that checkResponse accepted, produced at `producedAt`) says
   * about a certificate of `issuer`. Only good and revoked answers are kept (an `unknown` proves
   * nothing); of two answers about one certificate the newer (thisUpdate, then producedAt) stays,
   * and on a tie the revoked one. Returns false, keeping nothing, once MAX_PROOF_STATUSES are held.
   */
  add(issuer: CertificateFields, single: DecodedSingleResponse, producedAt: Date): boolean;
  /** Certificates with a kept status. */
  readonly size: number;
}

/** Most certificates one request's proofs speak about: a chain is a few certificates deep. */
export const MAX_PROOF_STATUSES = 32;

interface Entry {
  readonly issuerSubject: Buffer;
  readonly issuerKey: Buffer;
  readonly serial: Buffer;
  answer: StatusAnswer;
  producedAt: Date;
}

/** An empty set; a plain array, since it holds a chain's worth of entries. */
export function verifiedProofs(): VerifiedProofsBuilder {
  const entries: Entry[] = [];
  const find = (issuer: CertificateFields, serial: Buffer): Entry | undefined =>
    entries.find((entry) => entry.serial.equals(serial) && entry.issuerKey.equals(issuer.subjectPublicKey) && entry.issuerSubject.equals(issuer.subjectDer));
  return {
    get size() {
      return entries.length;
    },
    statusOf(issuer, serialNumber) {
      return find(issuer, minimalSerial(serialNumber))?.answer;
    },
    add(issuer, single, producedAt) {
      const answer = statusAnswerOf(single);
      if (answer === undefined) return true;
      const serial = minimalSerial(single.certId.serialNumber);
      const held = find(issuer, serial);
      if (held === undefined) {
        if (entries.length >= MAX_PROOF_STATUSES) return false;
        entries.push({ issuerSubject: issuer.subjectDer, issuerKey: issuer.subjectPublicKey, serial, answer, producedAt });
        return true;
      }
      const age = compareAge({ thisUpdate: answer.thisUpdate, producedAt }, { thisUpdate: held.answer.thisUpdate, producedAt: held.producedAt });
      if (age < 0 || (age === 0 && held.answer.kind === "revoked")) return true;
      held.answer = answer;
      held.producedAt = producedAt;
      return true;
    },
  };
}

function statusAnswerOf(single: DecodedSingleResponse): StatusAnswer | undefined {
  const times = { thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  if (single.status.kind === "good") return { kind: "good", ...times };
  if (single.status.kind === "revoked") return { kind: "revoked", ...times, revokedAt: single.status.revokedAt, reason: single.status.reason, invalidityDate: single.invalidityDate };
  return undefined;
}
