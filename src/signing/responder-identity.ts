import { X509Certificate } from "node:crypto";
import { systemClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { id_kp_OCSPSigning } from "../ocsp/oids.ts";
import { responderIdByKey, responderIdByName } from "../ocsp/responder-id.ts";
import type { AlgorithmIdentifier } from "../ocsp/types.ts";
import { isPostQuantum } from "./signature-algorithms.ts";
import { signerRotation } from "./signer-rotation.ts";
import type { SignatureAlgorithm, Signer } from "./signer.ts";

/** One signer of an issuer, checked against the CA, with everything a response signed by it needs. */
export interface SignerIdentity {
  readonly signer: Signer;
  /** The complete ResponderID TLV (RFC 6960 §4.2.2.3), computed once. */
  readonly responderIdDer: Buffer;
  /** Certificates for BasicOCSPResponse.certs: the signer's, then its chain when configured. */
  readonly certsDer: readonly Buffer[];
  /** The signer certificate's notBefore and notAfter, in milliseconds since the epoch (both inclusive). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** From when it is preferred to older signers: notBefore plus the configured `activateAfter`. */
  readonly activateAt: number;
  /** The certificate's serial number in hex (upper case), for logs and metric labels. */
  readonly serial: string;
  /** Signs with ML-DSA: answers clients that ask for it (RFC 6960 §4.4.7) while a classical signer is valid. */
  readonly postQuantum: boolean;
}

/** The signer and algorithm of one response. */
export interface SignerChoice {
  readonly identity: SignerIdentity;
  readonly algorithm: SignatureAlgorithm;
  /** Chosen over the issuer's default signer because the request preferred its algorithm: a response for this client only. */
  readonly preferred: boolean;
}

/**
 * Every signer of one issuer as the request path sees it. `signer`, `responderIdDer` and `certsDer`
 * are those of the signer a client without preferences gets now (they change at a rollover).
 */
export interface ResponderIdentity {
  readonly signer: Signer;
  readonly responderIdDer: Buffer;
  readonly certsDer: readonly Buffer[];
  /**
   * The signer and algorithm for a response made at `now` for a client that prefers `preferred`
   * (RFC 6960 §4.4.7); `undefined` when no signer is valid at `now` (the caller answers tryLater).
   */
  choose(preferred: readonly AlgorithmIdentifier[], now: number): SignerChoice | undefined;
}

export interface SignerIdentityOptions {
  readonly signer: Signer;
  /** The CA certificate the signer answers for. */
  readonly issuerCertificate: Buffer;
  readonly responderId: "byKey" | "byName";
  readonly includeChain: boolean;
  /** Milliseconds after notBefore before it takes over from an older signer (default 0). */
  readonly activateAfterMs?: number;
  /** Field path of the signer setting, for errors. */
  readonly field: string;
}

/**
 * Checks that the signer may sign for the issuer (RFC 6960 §4.2.2.2: the CA itself, or a certificate
 * the CA issued with id-kp-OCSPSigning) and precomputes the ResponderID and `certs`. Its validity
 * period is not checked here: a signer may be staged before its notBefore, and kept past its notAfter
 * (never to sign again). Throws ConfigError naming the field when the signer is not authorized.
 */
export function signerIdentity(options: SignerIdentityOptions): SignerIdentity {
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
  const fields = certificateFields(options.signer.certificate);
  const responderIdDer = options.responderId === "byKey" ? responderIdByKey(fields) : responderIdByName(fields.subjectDer);
  const certsDer = delegated && options.includeChain ? [options.signer.certificate, options.issuerCertificate] : [options.signer.certificate];
  const notBefore = Date.parse(signerCertificate.validFrom);
  const notAfter = Date.parse(signerCertificate.validTo);
  const algorithm = options.signer.algorithms[0];
  return {
    signer: options.signer,
    responderIdDer,
    certsDer,
    notBefore,
    notAfter,
    activateAt: notBefore + (options.activateAfterMs ?? 0),
    serial: signerCertificate.serialNumber.toUpperCase(),
    postQuantum: algorithm !== undefined && isPostQuantum(algorithm),
  };
}

export interface ResponderIdentityOptions extends SignerIdentityOptions {
  /** Milliseconds since the epoch, to check the signer's validity period. */
  readonly now: number;
}

/**
 * An issuer with one signer that never changes (tests, tools): `signerIdentity`, and the signer must
 * be valid at `now`. Throws ConfigError naming the field when it is not authorized or not valid now.
 */
export function responderIdentity(options: ResponderIdentityOptions): ResponderIdentity {
  const identity = signerIdentity(options);
  if (options.now < identity.notBefore || options.now > identity.notAfter) {
    const certificate = new X509Certificate(options.signer.certificate);
    throw new ConfigError(`${options.field}.certificate`, `the signer certificate is not valid now (valid ${certificate.validFromDate.toISOString()} to ${certificate.validToDate.toISOString()})`);
  }
  return signerRotation([identity], { clock: systemClock });
}
