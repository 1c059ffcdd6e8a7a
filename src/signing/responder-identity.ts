import { X509Certificate } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { id_kp_OCSPSigning } from "../ocsp/oids.ts";
import { responderIdByKey, responderIdByName } from "../ocsp/responder-id.ts";
import type { Signer } from "./signer.ts";

/** Everything that identifies the responder inside a response signed for one issuer. */
export interface ResponderIdentity {
  readonly signer: Signer;
  /** The complete ResponderID TLV (RFC 6960 §4.2.2.3), computed once. */
  readonly responderIdDer: Buffer;
  /** Certificates for BasicOCSPResponse.certs: the signer's, then its chain when configured. */
  readonly certsDer: readonly Buffer[];
}

export interface ResponderIdentityOptions {
  readonly signer: Signer;
  /** The CA certificate the signer answers for. */
  readonly issuerCertificate: Buffer;
  readonly responderId: "byKey" | "byName";
  readonly includeChain: boolean;
  /** Milliseconds since the epoch, to check the signer's validity period. */
  readonly now: number;
  /** Field path of the signer setting, for errors. */
  readonly field: string;
}

/**
 * Checks that the signer may sign for the issuer (RFC 6960 §4.2.2.2: the CA itself, or a certificate
 * the CA issued with id-kp-OCSPSigning) and precomputes the ResponderID and `certs`.
 * Throws ConfigError naming the field when the signer is not authorized or not currently valid.
 */
export function responderIdentity(options: ResponderIdentityOptions): ResponderIdentity {
  const signerCertificate = new X509Certificate(options.signer.certificate);
  const issuer = new X509Certificate(options.issuerCertificate);
  const delegated = !options.signer.certificate.equals(options.issuerCertificate);
  if (delegated) {
    if (!signerCertificate.checkIssued(issuer) || !signerCertificate.verify(issuer.publicKey)) {
      throw new ConfigError(`${options.field}.certificate`, `the signer certificate (${signerCertificate.subject.replaceAll("\n", ", ")}) was not issued by the CA ${issuer.subject.replaceAll("\n", ", ")}`);
    }
    if (!(signerCertificate.keyUsage ?? []).includes(id_kp_OCSPSigning)) {
      throw new ConfigError(`${options.field}.certificate`, "a delegated signer certificate needs the extended key usage id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9)");
    }
  }
  const validFrom = Date.parse(signerCertificate.validFrom);
  const validTo = Date.parse(signerCertificate.validTo);
  if (options.now < validFrom || options.now > validTo) {
    throw new ConfigError(`${options.field}.certificate`, `the signer certificate is not valid now (valid ${signerCertificate.validFromDate.toISOString()} to ${signerCertificate.validToDate.toISOString()})`);
  }
  const fields = certificateFields(options.signer.certificate);
  const responderIdDer = options.responderId === "byKey" ? responderIdByKey(fields) : responderIdByName(fields.subjectDer);
  const certsDer = delegated && options.includeChain ? [options.signer.certificate, options.issuerCertificate] : [options.signer.certificate];
  return { signer: options.signer, responderIdDer, certsDer };
}
