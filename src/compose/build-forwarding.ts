import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Clock } from "../clock.ts";
import type { ForwardingConfig } from "../config/forwarding-schema.ts";
import { ConfigError } from "../errors.ts";
import { circuitBreakers, type CircuitState } from "../forwarding/circuit-breaker.ts";
import type { ResponseChecks } from "../forwarding/accept-response.ts";
import { forwarder, type Forwarder } from "../forwarding/forwarder.ts";
import { urlDiscovery } from "../forwarding/discovery.ts";
import { httpPoster } from "../forwarding/http-post.ts";
import { knownIssuers } from "../forwarding/known-issuers.ts";
import { remoteResponder } from "../forwarding/remote-responder.ts";
import { urlAllowList } from "../forwarding/url-pattern.ts";
import type { Logger } from "../observability/logger.ts";
import type { VouchMetrics } from "../observability/metrics.ts";
import type { IssuerDirectory } from "../issuers/issuer-directory.ts";
import type { Step } from "../pipeline/step.ts";
import { forwardingStep } from "../pipeline/steps/06-forwarding.ts";
import type { ResponseCache } from "../responses/response-cache.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";
import { nameMatcher } from "../trust/name-match.ts";

/** What forwarding needs besides its configuration. */
export interface ForwardingDependencies {
  readonly issuers: IssuerDirectory;
  /** The certificate cache, when `trust` is configured (issuer lookup; `fromcert` needs it). */
  readonly certificates: CertificateCache | undefined;
  /** The responder's response cache (cached types), where forwarded responses are kept. */
  readonly responseCache?: ResponseCache;
  /** What Vouch's own revocation sources say about a delegated signer (a forwarded response signed by a revoked one is refused). */
  readonly signerStatus?: ResponseChecks["signerStatus"];
  readonly clock: Clock;
  readonly logger: Logger;
  /** The process's metrics and the responder's name, for `vouch_forwarding_urls_refused_total`. */
  readonly metrics?: { readonly registry: VouchMetrics; readonly responder: string } | undefined;
  /** Given the circuit breakers' states once they exist (for the `vouch_forwarding_circuit_state` gauge). */
  readonly trackCircuits?: ((states: () => Iterable<readonly [string, CircuitState]>) => void) | undefined;
}

/**
 * Builds a responder's back-end client from its `forwarding` configuration: DN patterns compiled,
 * signer certificates read (synchronously: this runs once at start-up or reload), one keep-alive
 * client and one set of circuit breakers, shared by step 6 and the responder's background work
 * (renewing, own-chain freshness proofs). Throws ConfigError naming `field.…`.
 */
export function buildForwarder(config: ForwardingConfig, field: string, dependencies: Omit<ForwardingDependencies, "responseCache">): Forwarder {
  const { issuers, certificates, clock, logger, metrics } = dependencies;
  if (config.methods.includes("fromcert") && certificates === undefined) {
    throw new ConfigError(`${field}.methods`, "fromcert finds target certificates in the certificate cache, which needs trust (trust.anchors and trust.certificates)");
  }
  const issuerOf = knownIssuers(issuers, certificates);
  const table = config.table.map((row, index) => ({ issuer: nameMatcher([row.issuer], `${field}.table[${index}].issuer`), url: new URL(row.url) }));
  const refused = new Map(config.methods.map((method) => [method, metrics?.registry.forwardingUrlsRefused.child({ responder: metrics.responder, method })]));
  const trustedResponders = config.checks.signerCertificates.flatMap((file, index) => readCertificates(file, `${field}.checks.signerCertificates[${index}]`));
  const openedAt = new Map<string, number>();
  const breakers = circuitBreakers({
    failureThreshold: config.breaker.failures,
    coolDownMs: config.breaker.coolDown,
    clock,
    onChange: (url, change, failures) => {
      if (change === "opened") {
        openedAt.set(url, clock.now());
        logger.warn({ step: "forwarding", circuit: "opened", url, failures, coolDownMs: config.breaker.coolDown }, "remote responder failing: circuit opened, requests skip it until a trial succeeds");
      } else {
        logger.info({ step: "forwarding", circuit: "closed", url, openForMs: clock.now() - (openedAt.get(url) ?? clock.now()) }, "remote responder answering again: circuit closed");
        openedAt.delete(url);
      }
    },
  });
  dependencies.trackCircuits?.(() => breakers.states());
  return forwarder({
    methods: config.methods,
    discovery: urlDiscovery({ table, allowed: urlAllowList(config.allowedUrls, `${field}.allowedUrls`), cache: certificates, issuerOf }),
    onlyForIssuer: config.onlyForIssuer === undefined ? undefined : nameMatcher(config.onlyForIssuer, `${field}.onlyForIssuer`),
    remote: remoteResponder({
      poster: httpPoster(),
      breakers,
      timeoutMs: config.timeout,
      retries: config.retries,
      maxResponseBytes: config.maxResponseBytes,
    }),
    checks: {
      verifySignature: config.checks.verifySignature,
      trustedResponders,
      signerNames: config.checks.signerNames === undefined ? undefined : nameMatcher(config.checks.signerNames, `${field}.checks.signerNames`),
      nonce: config.checks.nonce,
      allowUnknown: config.checks.allowUnknown,
      clockSkewMs: config.checks.clockSkew,
      ...(dependencies.signerStatus === undefined ? {} : { signerStatus: dependencies.signerStatus }),
    },
    issuerOf,
    clock,
    logger,
    onRefusedUrl: (method) => refused.get(method)?.inc(),
  });
}

/** Step 6 over `forwarder` (or one built from `config` when none is given). */
export function buildForwardingStep(config: ForwardingConfig, field: string, dependencies: ForwardingDependencies & { readonly forwarder?: Forwarder | undefined }): Step {
  return forwardingStep({
    forwarder: dependencies.forwarder ?? buildForwarder(config, field, dependencies),
    ...(dependencies.responseCache === undefined ? {} : { responseCache: dependencies.responseCache }),
    logger: dependencies.logger,
  });
}

/** Every certificate (DER) in a PEM bundle or DER file; ConfigError naming `field` and the file otherwise. */
function readCertificates(file: string, field: string): Buffer[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(field, `${file}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
  }
  const text = bytes.toString("latin1");
  const blocks = text.includes("-----BEGIN") ? [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ""), "base64")) : [bytes];
  if (blocks.length === 0) throw new ConfigError(field, `${file}: holds no PEM certificate`);
  return blocks.map((der, index) => {
    try {
      return Buffer.from(new X509Certificate(der).raw);
    } catch (error) {
      throw new ConfigError(field, `${file}: certificate ${index + 1} is not a valid X.509 certificate`, { cause: error });
    }
  });
}
