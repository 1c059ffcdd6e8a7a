import { X509Certificate } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { IssuerConfig, ResponderConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { VouchMetrics } from "../observability/metrics.ts";
import type { ServedIssuer } from "../issuers/issuer-directory.ts";
import { readCertificateFile } from "../certificate-file.ts";
import type { SigningLimiter } from "../signing/signing-limiter.ts";
import { signersOf } from "../config/signers-of.ts";
import { firstAnswer } from "../status/first-answer.ts";
import { guardStale } from "../status/guard-stale.ts";
import { meterCrlFetches, meterFreshness, meteredSource } from "../status/metered-source.ts";
import { sourceData } from "../status/source-data.ts";
import { recheckingSource } from "../status/recheck.ts";
import type { SourceSupply } from "../status/source-supply.ts";
import type { OpenedSource, StatusSource } from "../status/status-source.ts";
import { buildSource } from "./build-source.ts";
import { buildIssuerSigners } from "./issuer-signers.ts";

/**
 * Builds one served issuer: its certificate, its signers (checked against the CA, watched, rolled
 * over and renewed: issuer-signers.ts), and its sources in order, each behind the stale-data guard.
 * With `metrics`, the signers and each source are metered (STYLE convention 9); with `limiter`,
 * every signature goes through it (load shedding: tryLater when its queue is full, which is not
 * counted as a signer error); with `renewSigners`, this process runs the automatic renewals. Throws
 * ConfigError naming the field on any problem; sources already opened (and token signers) are closed first.
 */
export async function buildIssuer(
  config: IssuerConfig,
  responder: ResponderConfig,
  field: string,
  clock: Clock,
  logger: Logger,
  supply: SourceSupply,
  layers: { readonly metrics?: VouchMetrics | undefined; readonly limiter?: SigningLimiter | undefined; readonly renewSigners?: boolean | undefined } = {},
): Promise<ServedIssuer> {
  const { metrics, limiter } = layers;
  const certificate = await readCertificateFile(config.certificate, `${field}.certificate`);
  const name = new X509Certificate(certificate).subject.replaceAll("\n", ", ");
  const signers = await buildIssuerSigners({
    blocks: signersOf(config).map((block) => ({ config: block.config, field: `${field}.${block.field}` })),
    issuerCertificateFile: config.certificate,
    context: {
      issuerCertificate: certificate,
      issuerName: name,
      // The Identrus profile sends the full signer chain in every response (SPEC §2).
      responder: { name: responder.name, responderId: responder.responderId, includeChain: responder.includeChain || responder.type.startsWith("identrus") },
      clock,
      logger,
      metrics,
      limiter,
    },
    renew: layers.renewSigners !== false,
  });
  const opened: OpenedSource[] = [];
  const sources: StatusSource[] = [];
  const untrack: (() => void)[] = [];
  const responseValidityMs = config.responseValidity ?? responder.responseValidity;
  try {
    for (const [index, source] of config.sources.entries()) {
      const built = await buildSource(source, certificate, `${field}.sources[${index}]`, clock, logger.child({ issuer: name }), responseValidityMs, supply);
      opened.push(built);
      const guarded = guardStale(built, clock);
      if (metrics === undefined) {
        sources.push(guarded);
      } else {
        const labels = { metrics, responder: responder.name, issuer: name, source: source.type };
        sources.push(meteredSource(guarded, labels));
        untrack.push(meterFreshness(built, labels), meterCrlFetches(built, labels));
      }
    }
  } catch (error) {
    for (const stop of untrack) stop();
    await Promise.all(opened.map((source) => source.close()));
    await signers.close();
    throw error;
  }
  // Answers for serials another worker or instance reported changed wait for these sources' fresh look (recheck.ts).
  const source = recheckingSource(sources.length === 1 ? sources[0]! : firstAnswer(sources));
  const openedData = sourceData(opened);
  const data = {
    ...openedData,
    lookNow(serials?: readonly Buffer[] | "everything") {
      const looked = openedData.lookNow();
      if (serials !== undefined) source.hold(serials, looked);
      return looked;
    },
  };
  return {
    name,
    certificate,
    identity: signers.identity,
    source,
    data,
    responseValidityMs,
    // Readiness signs with the same keys, shed with the rest, but outside the signer's metrics: those count signatures for responses.
    signerReadiness: () => signers.readiness(),
    close: async () => {
      for (const stop of untrack) stop();
      await data.close();
      await signers.close();
    },
  };
}
