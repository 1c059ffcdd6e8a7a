/**
 * The individual checks of the validation process (SPEC §3), each a pure function from parsed
 * certificates to a failure or `undefined`. validate-certificate.ts decides the order and the search.
 */
import { id_kp_OCSPSigning } from "../ocsp/oids.ts";
import { serialText } from "../status/serial-key.ts";
import type { StatusAnswer } from "../status/status-source.ts";
import type { CheckName, ValidationPurpose } from "./certificate-validator.ts";
import { renderName } from "./distinguished-name.ts";
import { nameConstraintsViolation } from "./name-constraints.ts";
import type { ParsedCertificate } from "./parse-certificate.ts";

/** A failed check and what exactly failed. */
export interface Failure {
  readonly failed: CheckName;
  readonly detail: string;
}

/** id-kp-clientAuth and anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

/**
 * How specific a failure is, for choosing what to report when every candidate path failed: the
 * further a path got before failing, the more it says. A revoked certificate on an otherwise good
 * path explains more than a decoy issuer whose key did not verify, which explains more than nothing
 * found at all. Equal ranks keep the first failure found.
 */
const SPECIFICITY: Readonly<Record<CheckName, number>> = {
  "no-path": 0,
  depth: 1,
  "bad-signature": 2,
  "not-a-ca": 3,
  "path-length": 4,
  "name-constraints": 5,
  malformed: 5,
  usage: 5,
  expired: 6,
  "not-yet-valid": 6,
  "status-unknown": 7,
  revoked: 8,
};

/** The more specific of two failures (`a` on a tie). */
export function moreSpecific(a: Failure | undefined, b: Failure): Failure {
  return a === undefined || SPECIFICITY[b.failed] > SPECIFICITY[a.failed] ? b : a;
}

/** A certificate named for a detail message: its subject DN, or its serial when the DN is empty. */
export function describe(certificate: ParsedCertificate): string {
  const name = renderName(certificate.subject);
  return name === "" ? `serial ${serialText(certificate.fields.serialNumber)}` : JSON.stringify(name);
}

/** RFC 5280 §6.1.3 (a)(2): notBefore ≤ now ≤ notAfter. */
export function checkValidity(certificate: ParsedCertificate, now: number): Failure | undefined {
  const { notBefore, notAfter } = certificate.fields;
  if (now < notBefore.getTime()) return { failed: "not-yet-valid", detail: `${describe(certificate)} is valid from ${notBefore.toISOString()}` };
  if (now > notAfter.getTime()) return { failed: "expired", detail: `${describe(certificate)} expired at ${notAfter.toISOString()}` };
  return undefined;
}

/** Unknown critical extensions make a certificate unusable (RFC 5280 §4.2). */
export function checkCriticalExtensions(certificate: ParsedCertificate): Failure | undefined {
  if (certificate.unknownCritical.length === 0) return undefined;
  return { failed: "malformed", detail: `${describe(certificate)} has unsupported critical extension(s) ${certificate.unknownCritical.join(", ")}` };
}

/**
 * The end certificate's key usage for `purpose`. tls-client-auth: keyUsage (when present) has
 * digitalSignature or keyAgreement, and extendedKeyUsage (when present) has id-kp-clientAuth or
 * anyExtendedKeyUsage. request-signing: keyUsage (when present) has digitalSignature or
 * nonRepudiation; extendedKeyUsage is not consulted (there is no key purpose for OCSP requests).
 * ocsp-signing: the same keyUsage, and extendedKeyUsage must be present with id-kp-OCSPSigning
 * (RFC 6960 §4.2.2.2: a delegated responder is marked so, anyExtendedKeyUsage does not do).
 */
export function checkUsage(certificate: ParsedCertificate, purpose: ValidationPurpose): Failure | undefined {
  const { keyUsage, extendedKeyUsage } = certificate;
  const fail = (why: string): Failure => ({ failed: "usage", detail: `${describe(certificate)} ${why}` });
  if (purpose === "tls-client-auth") {
    if (keyUsage !== undefined && !keyUsage.has("digitalSignature") && !keyUsage.has("keyAgreement")) {
      return fail("has keyUsage without digitalSignature or keyAgreement, needed for TLS client authentication");
    }
    if (extendedKeyUsage !== undefined && !extendedKeyUsage.has(CLIENT_AUTH) && !extendedKeyUsage.has(ANY_EXTENDED_KEY_USAGE)) {
      return fail("has extendedKeyUsage without id-kp-clientAuth");
    }
    return undefined;
  }
  if (keyUsage !== undefined && !keyUsage.has("digitalSignature") && !keyUsage.has("nonRepudiation")) {
    return fail(`has keyUsage without digitalSignature or nonRepudiation, needed to sign ${purpose === "ocsp-signing" ? "responses" : "requests"}`);
  }
  if (purpose === "ocsp-signing" && extendedKeyUsage?.has(id_kp_OCSPSigning) !== true) return fail("lacks extendedKeyUsage id-kp-OCSPSigning, needed to sign OCSP responses");
  return undefined;
}

/**
 * `issuer` may sign certificates: basicConstraints cA TRUE (RFC 5280 §6.1.4 (k)) and keyUsage, when
 * present, with keyCertSign (§6.1.4 (n)). A trust anchor without basicConstraints (a v1 root) is
 * accepted, as RFC 5280 takes an anchor's authority from configuration; one that says it is not a CA
 * is believed.
 */
export function checkIssuerIsCa(issuer: ParsedCertificate, isAnchor: boolean): Failure | undefined {
  const constraints = issuer.basicConstraints;
  if (constraints === undefined ? !isAnchor : !constraints.ca) {
    return { failed: "not-a-ca", detail: `${describe(issuer)} is not a CA (basicConstraints cA is not TRUE)` };
  }
  if (issuer.keyUsage !== undefined && !issuer.keyUsage.has("keyCertSign")) {
    return { failed: "not-a-ca", detail: `${describe(issuer)} has keyUsage without keyCertSign` };
  }
  return undefined;
}

/**
 * `issuer`'s pathLenConstraint against `below` (the path from the end certificate up to the
 * certificate `issuer` signed): it counts the intermediates below `issuer`, except self-issued ones
 * (RFC 5280 §6.1.4 (l), (m)); the end certificate never counts.
 */
export function checkPathLength(issuer: ParsedCertificate, below: readonly ParsedCertificate[]): Failure | undefined {
  const limit = issuer.basicConstraints?.pathLength;
  if (limit === undefined) return undefined;
  const intermediates = below.slice(1).filter((certificate) => !certificate.selfIssued).length;
  if (intermediates <= limit) return undefined;
  return { failed: "path-length", detail: `${describe(issuer)} allows ${limit} intermediate CA(s) below it, the path has ${intermediates}` };
}

/**
 * `issuer`'s name constraints on every certificate below it: the end certificate and each
 * intermediate that is not self-issued (RFC 5280 §6.1.3 (b), (c), §6.1.4 (b)).
 */
export function checkNameConstraints(issuer: ParsedCertificate, below: readonly ParsedCertificate[]): Failure | undefined {
  const constraints = issuer.nameConstraints;
  if (constraints === undefined) return undefined;
  for (const [index, certificate] of below.entries()) {
    if (index > 0 && certificate.selfIssued) continue;
    const violation = nameConstraintsViolation(constraints, certificate);
    if (violation !== undefined) return { failed: "name-constraints", detail: `${describe(certificate)}: ${violation} of ${describe(issuer)}` };
  }
  return undefined;
}

/**
 * Whether `certificate`, authenticated for `purpose`, may go without a known status: only a
 * delegated OCSP signer (id-kp-OCSPSigning, not a CA) carrying id-pkix-ocsp-nocheck, and only while
 * it is checked as the signer of an OCSP response ("ocsp-signing"). RFC 6960 §4.2.2.2.1 lets a
 * client trust such a responder for its lifetime without asking for its status (asking could
 * recurse into the responder it signs for). It says nothing about other uses: the same certificate
 * presented as a TLS client certificate or as a request signer is checked like any other, so a
 * revoked one is refused (issue 12). Even as a response signer it is still asked about, and a
 * revocation Vouch knows of fails it: the extension only makes "nobody knows" acceptable.
 */
export function skipsStatusCheck(certificate: ParsedCertificate, purpose: ValidationPurpose): boolean {
  return purpose === "ocsp-signing" && certificate.ocspNoCheck && certificate.extendedKeyUsage?.has(id_kp_OCSPSigning) === true && certificate.basicConstraints?.ca !== true;
}

/**
 * What a revocation answer means for the path. Good passes; revoked fails; unknown, not-issued
 * and no answer at all fail as status-unknown unless `unknownStatus` is "pass".
 */
export function checkStatus(certificate: ParsedCertificate, answer: StatusAnswer | undefined, unknownStatus: "fail" | "pass"): Failure | undefined {
  if (answer?.kind === "good") return undefined;
  if (answer?.kind === "revoked") {
    const reason = answer.reason === undefined ? "" : ` (${answer.reason})`;
    return { failed: "revoked", detail: `${describe(certificate)} was revoked at ${answer.revokedAt.toISOString()}${reason}` };
  }
  if (unknownStatus === "pass") return undefined;
  const why = answer === undefined ? "no revocation source knows its issuer" : answer.kind === "not-issued" ? "its issuer's source says it was never issued" : "its status is unknown";
  return { failed: "status-unknown", detail: `${describe(certificate)}: ${why}` };
}
