import type { Clock } from "../clock.ts";
import type { SignerConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { VouchMetrics } from "../observability/metrics.ts";
import { readCertificateFile } from "../certificate-file.ts";
import { boundedSigner } from "../signing/bounded-signer.ts";
import { keyFileSigner } from "../signing/key-file-signer.ts";
import { meteredSigner } from "../signing/metered-signer.ts";
import { pkcs11Signer } from "../signing/pkcs11-signer.ts";
import type { PinSource } from "../signing/pkcs11/pin-source.ts";
import { signerIdentity, type SignerIdentity } from "../signing/responder-identity.ts";
import type { Signer } from "../signing/signer.ts";
import type { SigningLimiter } from "../signing/signing-limiter.ts";

/**
 * The signer an issuer's `signer` block describes: a key file (`key`, possibly encrypted) or a key
 * on a PKCS#11 token (`pkcs11`). A token signer has `close` (its sessions). `field` is the path of
 * the `signer` block. Throws ConfigError naming the setting at fault, or when the key does not
 * belong to `certificate`.
 */
async function buildSigner(
  config: SignerConfig,
  certificate: Buffer,
  field: string,
  clock: Clock,
  logger: Logger,
  keyFile: string | undefined = config.key,
): Promise<Signer & { readonly close?: () => void }> {
  if (config.pkcs11 === undefined) {
    return keyFileSigner({ keyFile: keyFile ?? "", passphrase: secretOf(config.passphrase), certificate, rsaPadding: config.rsaPadding, field: `${field}.key`, passphraseField: `${field}.passphrase` });
  }
  const pkcs11 = config.pkcs11;
  return pkcs11Signer({
    module: pkcs11.module,
    token: pkcs11.token,
    slot: pkcs11.slot,
    keyLabel: pkcs11.key,
    keyId: pkcs11.id === undefined ? undefined : Buffer.from(pkcs11.id, "hex"),
    pin: secretOf(pkcs11.pin)!,
    certificate,
    rsaPadding: config.rsaPadding,
    sessions: pkcs11.sessions,
    retryIntervalMs: pkcs11.retryInterval,
    clock,
    logger,
    field: `${field}.pkcs11`,
  });
}

/** A PIN or passphrase setting (the schema guarantees exactly one of file and env) as the reader takes it. */
export function secretOf(secret: { readonly file?: string | undefined; readonly env?: string | undefined } | undefined): PinSource | undefined {
  if (secret === undefined) return undefined;
  return secret.file === undefined ? { env: secret.env ?? "" } : { file: secret.file };
}

/** One signer loaded from its files, checked against its CA, ready to sign responses. */
export interface LoadedSigner {
  /** Its signer signs responses: metered and shed with the others when built with `metrics` and `limiter`. */
  readonly identity: SignerIdentity;
  /** The same key for readiness's test signatures: shed, but outside the metrics that count responses. */
  readonly testSigner: Signer;
  /** Releases a token signer's sessions. */
  readonly close?: (() => void) | undefined;
}

/** Where one signer's files are and what it answers for. */
export interface SignerFiles {
  readonly config: SignerConfig;
  /** The signer certificate (the issuer's own when the CA signs itself). */
  readonly certificateFile: string;
  /** The key file (unused for a token key). */
  readonly keyFile: string | undefined;
  /** Path of the `signer` block, for errors. */
  readonly field: string;
}

/** What a served issuer needs of its signers. */
export interface SignerContext {
  readonly issuerCertificate: Buffer;
  readonly issuerName: string;
  readonly responder: { readonly name: string; readonly responderId: "byKey" | "byName"; readonly includeChain: boolean };
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: VouchMetrics | undefined;
  readonly limiter?: SigningLimiter | undefined;
}

/**
 * Reads a signer's certificate and key, checks them as at start-up (the key is the certificate's,
 * the certificate the CA's own or issued by it with id-kp-OCSPSigning) and wraps the signer in
 * its metrics and the load-shedding limiter. Throws ConfigError naming the field at fault.
 */
export async function loadSigner(files: SignerFiles, context: SignerContext): Promise<LoadedSigner> {
  const { config, field } = files;
  const certificate = await readCertificateFile(files.certificateFile, `${field}.certificate`);
  const base = await buildSigner(config, certificate, field, context.clock, context.logger, files.keyFile);
  const { metrics, limiter } = context;
  const metered = metrics === undefined ? base : meteredSigner(base, { metrics, responder: context.responder.name, issuer: context.issuerName });
  try {
    const identity = signerIdentity({
      signer: limiter === undefined ? metered : boundedSigner(metered, limiter),
      issuerCertificate: context.issuerCertificate,
      responderId: context.responder.responderId,
      includeChain: context.responder.includeChain,
      activateAfterMs: config.activateAfter,
      field,
    });
    return { identity, testSigner: limiter === undefined ? base : boundedSigner(base, limiter), close: base.close };
  } catch (error) {
    base.close?.();
    throw error;
  }
}
