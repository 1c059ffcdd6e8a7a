import { createHash } from "node:crypto";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { CertId } from "../ocsp/types.ts";
import type { IssuerDirectory } from "../issuers/issuer-directory.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";

/** The issuer CA certificate (DER) of a CertID, when Vouch knows it. */
export type IssuerOf = (certId: CertId) => Buffer | undefined;

/**
 * Names a CertID's issuer from the certificates Vouch knows: the CAs this responder serves, then
 * the certificate cache (configured intermediates and responder certificates in trust.certificates,
 * and CA certificates on a path the validation process accepted; never one a client merely sent),
 * matched by key hash and then name hash
 * (RFC 6960 §4.1.1). Trust anchors are not searched unless they are also in trust.certificates.
 */
export function knownIssuers(issuers: IssuerDirectory, cache: CertificateCache | undefined): IssuerOf {
  return (certId) => {
    const served = issuers.find(certId);
    if (served !== undefined) return served.certificate;
    if (cache === undefined) return undefined;
    for (const candidate of cache.findByKeyHash(certId.hashAlgorithm, certId.issuerKeyHash)) {
      const nameHash = createHash(certId.hashAlgorithm).update(subjectOf(candidate)).digest();
      if (nameHash.equals(certId.issuerNameHash)) return candidate;
    }
    return undefined;
  };
}

const subjects = new WeakMap<Buffer, Buffer>();

/**
 * The subject Name DER of a known issuer certificate, parsed once per certificate Buffer (issuers
 * come from the directory and the cache, which hand back the same Buffers on every request).
 */
export function subjectOf(issuerDer: Buffer): Buffer {
  let subject = subjects.get(issuerDer);
  if (subject === undefined) {
    subject = certificateFields(issuerDer).subjectDer;
    subjects.set(issuerDer, subject);
  }
  return subject;
}
