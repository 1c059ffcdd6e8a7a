import { X509Certificate, createHash } from "node:crypto";
import type { DecodedBasicResponse, DecodedResponderId } from "../ocsp/decode-response.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { id_kp_OCSPSigning } from "../ocsp/oids.ts";
import type { CertId } from "../ocsp/types.ts";
import type { StatusAnswer } from "../status/status-source.ts";
import { verifySignedData } from "../signing/verify-signed-data.ts";

export interface ResponseCheckOptions {
  /** The issuer CA certificate (DER) of a single response's certificate, or `undefined` when unknown. */
  readonly issuerOf: (certId: CertId) => Buffer | undefined;
  /** Certificates trusted as responders by configuration (RFC 6960 §4.2.2.2 "Trusted Responder"), for any issuer. */
  readonly trustedResponders?: readonly Buffer[];
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Oldest acceptable thisUpdate, as an age in milliseconds (freshness-proof max age); default: no limit. */
  readonly maxAgeMs?: number;
  /** Allowed clock skew for times in the future and nextUpdate in the past; default 300_000 (5 minutes). */
  readonly clockSkewMs?: number;
  /** CertID TLVs the response must answer, each byte for byte (forwarding: the request's). */
  readonly expectedCertIds?: readonly Buffer[];
  /** The request's nonce, which the response must echo (forwarding). */
  readonly expectedNonce?: Buffer;
  /**
   * What Vouch's own revocation sources say about `signer` (DER), a delegated responder certificate
   * issued by `issuer` (DER): `undefined` when they do not know. May throw (e.g. TryLaterError when
   * the source that knows has stale data). Without it, a delegated signer's status is not checked.
   */
  readonly signerStatus?: (signer: Buffer, issuer: Buffer) => Promise<StatusAnswer | undefined>;
}

/** The check that failed, for logs, metrics and tests. */
export type ResponseCheckFailure =
  | "bad-signature"
  | "unauthorized-signer"
  | "signer-revoked"
  | "signer-status-unavailable"
  | "unknown-issuer"
  | "certid-mismatch"
  | "nonce-mismatch"
  | "too-old"
  | "not-yet-valid"
  | "expired";

export type ResponseCheck =
  | { readonly ok: true; readonly signerCertificate: Buffer }
  | { readonly ok: false; readonly failed: ResponseCheckFailure; readonly detail: string };

const DEFAULT_SKEW_MS = 300_000;

/**
 * Decides whether a decoded BasicOCSPResponse from elsewhere can be believed (RFC 6960 §3.2, §4.2.2.2):
 * it answers the expected CertIDs and echoes the nonce; every single response is inside its time
 * window (and young enough, with `maxAgeMs`); and it is signed by an authorized responder for every
 * issuer it speaks about — the CA itself, a CA-designated responder (issued directly by that CA, with
 * id-kp-OCSPSigning, valid now), or a configured trusted responder. The signer certificate is found by
 * the ResponderID among the response's certs, the trusted responders and the issuers. Never rejects.
 *
 * A CA-designated responder is checked when Vouch can: with `signerStatus`, one that Vouch's own
 * sources know to be revoked is refused (`signer-revoked`), id-pkix-ocsp-nocheck or not, and one whose
 * source cannot answer now is refused too (`signer-status-unavailable`). nocheck (RFC 6960
 * §4.2.2.2.1) only lets its status go unchecked when nothing is known about it; a configured trusted
 * responder is trusted as configured.
 */
export async function checkResponse(response: DecodedBasicResponse, options: ResponseCheckOptions): Promise<ResponseCheck> {
  const fail = (failed: ResponseCheckFailure, detail: string): ResponseCheck => ({ ok: false, failed, detail });
  for (const expected of options.expectedCertIds ?? []) {
    if (!response.responses.some((single) => single.certId.der.equals(expected))) return fail("certid-mismatch", "the response does not answer a CertID of the request");
  }
  if (options.expectedNonce !== undefined && (response.nonce === undefined || !response.nonce.equals(options.expectedNonce))) {
    return fail("nonce-mismatch", response.nonce === undefined ? "the request's nonce is not echoed" : "the echoed nonce differs from the request's");
  }
  const timing = checkTimes(response, options);
  if (timing !== undefined) return timing;

  const issuers = new Map<string, Buffer>();
  for (const single of response.responses) {
    const issuer = options.issuerOf(single.certId);
    if (issuer !== undefined) issuers.set(issuer.toString("base64"), issuer);
    else if ((options.trustedResponders ?? []).length === 0) return fail("unknown-issuer", `no issuer certificate is known for serial ${single.certId.serialNumber.toString("hex")}`);
  }

  const candidates = [...response.certs, ...(options.trustedResponders ?? []), ...issuers.values()].filter((der) => matchesResponderId(der, response.responderId));
  if (candidates.length === 0) return fail("unauthorized-signer", "no certificate matching the ResponderID is in the response or configured");
  for (const candidate of candidates) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(candidate);
    } catch {
      continue;
    }
    if (!(await verifySignedData(response.signatureAlgorithm.der, response.tbsResponseDataDer, certificate.publicKey, response.signature))) continue;
    const authorized = authorizedFor(candidate, certificate, response, options);
    if (authorized !== undefined) return fail("unauthorized-signer", authorized);
    const revoked = await delegatedSignerRevoked(candidate, issuers.values(), options);
    return revoked ?? { ok: true, signerCertificate: candidate };
  }
  return fail("bad-signature", "the signature does not verify with the responder's certificate");
}

function checkTimes(response: DecodedBasicResponse, options: ResponseCheckOptions): ResponseCheck | undefined {
  const skew = options.clockSkewMs ?? DEFAULT_SKEW_MS;
  if (response.producedAt.getTime() > options.now + skew) return { ok: false, failed: "not-yet-valid", detail: `producedAt ${response.producedAt.toISOString()} is in the future` };
  for (const single of response.responses) {
    if (single.thisUpdate.getTime() > options.now + skew) return { ok: false, failed: "not-yet-valid", detail: `thisUpdate ${single.thisUpdate.toISOString()} is in the future` };
    if (single.nextUpdate !== undefined && single.nextUpdate.getTime() < options.now - skew) {
      return { ok: false, failed: "expired", detail: `nextUpdate ${single.nextUpdate.toISOString()} has passed` };
    }
    if (options.maxAgeMs !== undefined && options.now - single.thisUpdate.getTime() > options.maxAgeMs) {
      return { ok: false, failed: "too-old", detail: `thisUpdate ${single.thisUpdate.toISOString()} is older than ${options.maxAgeMs} ms` };
    }
  }
  return undefined;
}

/** `undefined` when `signer` may answer for every single response's issuer; else why not. */
function authorizedFor(signerDer: Buffer, signer: X509Certificate, response: DecodedBasicResponse, options: ResponseCheckOptions): string | undefined {
  if ((options.trustedResponders ?? []).some((trusted) => trusted.equals(signerDer))) return undefined;
  for (const single of response.responses) {
    const issuerDer = options.issuerOf(single.certId);
    if (issuerDer === undefined) return `serial ${single.certId.serialNumber.toString("hex")}: no issuer known, and the signer is not a trusted responder`;
    if (issuerDer.equals(signerDer)) continue;
    const issuer = new X509Certificate(issuerDer);
    if (!signer.checkIssued(issuer) || !signer.verify(issuer.publicKey)) return `the signer ${oneLine(signer.subject)} was not issued by the CA ${oneLine(issuer.subject)}`;
    if (!(signer.keyUsage ?? []).includes(id_kp_OCSPSigning)) return `the signer ${oneLine(signer.subject)} lacks id-kp-OCSPSigning`;
    if (options.now < Date.parse(signer.validFrom) || options.now > Date.parse(signer.validTo)) return `the signer certificate is not valid now (valid ${signer.validFromDate.toISOString()} to ${signer.validToDate.toISOString()})`;
  }
  return undefined;
}

/** A failure when `signer`, a delegated responder of one of `issuers`, is revoked (or unverifiable) in Vouch's own sources. */
async function delegatedSignerRevoked(signer: Buffer, issuers: Iterable<Buffer>, options: ResponseCheckOptions): Promise<ResponseCheck | undefined> {
  if (options.signerStatus === undefined || (options.trustedResponders ?? []).some((trusted) => trusted.equals(signer))) return undefined;
  for (const issuer of issuers) {
    if (issuer.equals(signer)) continue;
    let status: StatusAnswer | undefined;
    try {
      status = await options.signerStatus(signer, issuer);
    } catch (error) {
      return { ok: false, failed: "signer-status-unavailable", detail: `the delegated signer's status cannot be checked now: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (status?.kind === "revoked") {
      return { ok: false, failed: "signer-revoked", detail: `the delegated signer (serial ${certificateFields(signer).serialNumber.toString("hex")}) was revoked at ${status.revokedAt.toISOString()}` };
    }
  }
  return undefined;
}

function matchesResponderId(der: Buffer, responderId: DecodedResponderId): boolean {
  try {
    const fields = certificateFields(der);
    if (responderId.kind === "byName") return fields.subjectDer.equals(responderId.nameDer);
    return createHash("sha1").update(fields.subjectPublicKey).digest().equals(responderId.keyHash);
  } catch {
    return false;
  }
}

function oneLine(subject: string): string {
  return subject.replaceAll("\n", ", ");
}
