import { X509Certificate } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { IssuerConfig, ResponderConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { VouchMetrics } from "../observability/metrics.ts";
import type { ServedIssuer } from "../pipeline/issuer-directory.ts";
import { readCertificateFile } from "../pki/certificate-file.ts";
import { boundedSigner } from "../signing/bounded-signer.ts";
import { meteredSigner } from "../signing/metered-signer.ts";
import { responderIdentity } from "../signing/responder-identity.ts";
import type { SigningLimiter } from "../signing/signing-limiter.ts";
import { firstAnswer } from "../status/first-answer.ts";
import { guardStale } from "../status/guard-stale.ts";
import { meteredSource } from "../status/metered-source.ts";
import type { StatusSource } from "../status/status-source.ts";
import { buildSigner } from "./build-signer.ts";
import { buildSource } from "./build-source.ts";

/**
 * Builds one served issuer: its certificate, its signer (checked against the CA), and its sources
 * in order, each behind the stale-data guard. With `metrics`, the signer and each source are
 * metered (STYLE convention 9); with `limiter`, every signature goes through it (load shedding:
 * tryLater when its queue is full, which is not counted as a signer error). Throws ConfigError naming
 * the field on any problem; sources already opened (and a token signer) are closed first.
 */
export async function buildIssuer(
  config: IssuerConfig,
  responder: ResponderConfig,
  field: string,
  clock: Clock,
  logger: Logger,
  layers: { readonly metrics?: VouchMetrics | undefined; readonly limiter?: SigningLimiter | undefined } = {},
): Promise<ServedIssuer> {
  const { metrics, limiter } = layers;
  const certificate = await readCertificateFile(config.certificate, `${field}.certificate`);
  const name = new X509Certificate(certificate).subject.replaceAll("\n", ", ");
  const signerCertificate =
    config.signer.certificate === undefined ? certificate : await readCertificateFile(config.signer.certificate, `${field}.signer.certificate`);
  const baseSigner = await buildSigner(config.signer, signerCertificate, `${field}.signer`, clock, logger);
  const releaseSigner = () => baseSigner.close?.();
  const metered = metrics === undefined ? baseSigner : meteredSigner(baseSigner, { metrics, responder: responder.name, issuer: name });
  const signer = limiter === undefined ? metered : boundedSigner(metered, limiter);
  const sources: StatusSource[] = [];
  const responseValidityMs = config.responseValidity ?? responder.responseValidity;
  let identity: ServedIssuer["identity"];
  try {
    identity = responderIdentity({
      signer,
      issuerCertificate: certificate,
      responderId: responder.responderId,
      // The Identrus profile sends the full signer chain in every response (SPEC §2).
      includeChain: responder.includeChain || responder.type.startsWith("identrus"),
      now: clock.now(),
      field: `${field}.signer`,
    });
    for (const [index, source] of config.sources.entries()) {
      const opened = await buildSource(source, certificate, `${field}.sources[${index}]`, clock, logger.child({ issuer: name }), responseValidityMs);
      const guarded = guardStale(opened, clock);
      sources.push(metrics === undefined ? guarded : meteredSource(guarded, { metrics, responder: responder.name, issuer: name, source: source.type }));
    }
  } catch (error) {
    await Promise.all(sources.map((source) => source.close()));
    releaseSigner();
    throw error;
  }
  const source = sources.length === 1 ? sources[0]! : firstAnswer(sources);
  return {
    name,
    certificate,
    identity,
    source,
    responseValidityMs,
    // Readiness signs with the same key, shed with the rest, but outside the signer's metrics: those count signatures for responses.
    testSigner: limiter === undefined ? baseSigner : boundedSigner(baseSigner, limiter),
    close: async () => {
      await source.close();
      releaseSigner();
    },
  };
}
