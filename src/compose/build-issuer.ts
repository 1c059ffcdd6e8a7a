import { X509Certificate } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { IssuerConfig, ResponderConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { ServedIssuer } from "../pipeline/issuer-directory.ts";
import { readCertificateFile } from "../pki/certificate-file.ts";
import { responderIdentity } from "../signing/responder-identity.ts";
import { firstAnswer } from "../status/first-answer.ts";
import { guardStale } from "../status/guard-stale.ts";
import type { StatusSource } from "../status/status-source.ts";
import { buildSigner } from "./build-signer.ts";
import { buildSource } from "./build-source.ts";

/**
 * Builds one served issuer: its certificate, its signer (checked against the CA), and its sources
 * in order, each behind the stale-data guard. Throws ConfigError naming the field on any problem;
 * sources already opened are closed first.
 */
export async function buildIssuer(config: IssuerConfig, responder: ResponderConfig, field: string, clock: Clock, logger: Logger): Promise<ServedIssuer> {
  const certificate = await readCertificateFile(config.certificate, `${field}.certificate`);
  const signerCertificate =
    config.signer.certificate === undefined ? certificate : await readCertificateFile(config.signer.certificate, `${field}.signer.certificate`);
  const signer = await buildSigner(config.signer, signerCertificate, `${field}.signer`, clock, logger);
  const identity = responderIdentity({
    signer,
    issuerCertificate: certificate,
    responderId: responder.responderId,
    // The Identrus profile sends the full signer chain in every response (SPEC §2).
    includeChain: responder.includeChain || responder.type.startsWith("identrus"),
    now: clock.now(),
    field: `${field}.signer`,
  });
  const name = new X509Certificate(certificate).subject.replaceAll("\n", ", ");
  const sources: StatusSource[] = [];
  try {
    for (const [index, source] of config.sources.entries()) {
      sources.push(guardStale(await buildSource(source, certificate, `${field}.sources[${index}]`, clock, logger.child({ issuer: name })), clock));
    }
  } catch (error) {
    await Promise.all(sources.map((source) => source.close()));
    throw error;
  }
  return {
    name,
    certificate,
    identity,
    source: sources.length === 1 ? sources[0]! : firstAnswer(sources),
    responseValidityMs: config.responseValidity ?? responder.responseValidity,
  };
}
