import type { Clock } from "../clock.ts";
import type { ResponderConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { VouchMetrics } from "../observability/metrics.ts";
import { stepResultRecorders } from "../observability/step-results.ts";
import type { IssuerDirectory } from "../issuers/issuer-directory.ts";
import { pipeline, type Pipeline } from "../pipeline/pipeline.ts";
import { RESPONDER_TYPE_STEPS, isOptionalStep } from "../pipeline/responder-types.ts";
import { FINISHING_STEPS } from "../pipeline/step-names.ts";
import type { Step } from "../pipeline/step.ts";
import type { BillingSink } from "../billing/billing-sink.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";
import type { CertificateValidator } from "../trust/certificate-validator.ts";
import type { RevocationLookup } from "../trust/revocation-lookup.ts";
import { nameMatcher } from "../trust/name-match.ts";
import { ConfigError } from "../errors.ts";
import { tlsClientAuthStep } from "../pipeline/steps/01-tls-client-auth.ts";
import { freshnessProofsStep } from "../pipeline/steps/02-freshness-proofs.ts";
import { requestSignatureStep } from "../pipeline/steps/03-request-signature.ts";
import { authorizationStep } from "../pipeline/steps/04-authorization.ts";
import { responseCacheStep } from "../pipeline/steps/05-response-cache.ts";
import type { Forwarder } from "../forwarding/forwarder.ts";
import { buildForwardingStep } from "./build-forwarding.ts";
import { localValidationStep } from "../pipeline/steps/07-local-validation.ts";
import { cacheFirstLocalValidationStep } from "../pipeline/steps/07-local-validation-cache-first.ts";
import { signStep } from "../pipeline/steps/08-sign.ts";
import { signAndStoreStep } from "../pipeline/steps/08-sign-and-store.ts";
import { reusingSignStep } from "../pipeline/steps/08-sign-reusing.ts";
import type { ReuseTable } from "../responses/reuse-table.ts";
import type { SignedResponse } from "../pipeline/exchange.ts";
import type { ResponseCache } from "../responses/response-cache.ts";
import { billingStep } from "../pipeline/steps/09-billing.ts";
import { sendStep } from "../pipeline/steps/10-send.ts";
import type { OwnChainProofs } from "../responses/own-chain-proofs.ts";

/** What a responder's steps are built from, besides its configuration. */
export interface PipelineDependencies {
  readonly issuers: IssuerDirectory;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The validation process and certificate cache, when `trust` is configured. */
  readonly trust:
    | { readonly validator: CertificateValidator; readonly cache: CertificateCache; readonly anchors: readonly Buffer[]; readonly revocation: RevocationLookup }
    | undefined;
  /** The responder's billing sink, when billing is configured. */
  readonly billingSink: BillingSink | undefined;
  /** The responder's URL, for billing records. */
  readonly url: string;
  /** The process's metrics; the pipeline reports each step's result there. */
  readonly metrics?: VouchMetrics | undefined;
  /** The responder's response cache (SPEC §6), when `responseCache` is configured. */
  readonly responseCache?: ResponseCache | undefined;
  /** identrus-cached: the freshness proofs of its own signing chain (SPEC step 8). */
  readonly ownChainProofs?: OwnChainProofs | undefined;
  /** Signed answers reused for `reuseFor` (issue 14 item 4); absent when reuseFor is PT0S. */
  readonly reuse?: ReuseTable<SignedResponse> | undefined;
  /** The responder's back-end client (SPEC step 6), shared with its background work; built here when absent. */
  readonly forwarder?: Forwarder | undefined;
}

/**
 * Builds one responder's pipeline from its type (the SPEC §2 table in responder-types.ts) and its
 * configuration. Steps that are off are left out of the list, not skipped on every request.
 * Throws ConfigError for a step that the configuration enables but this version does not have.
 */
export function buildPipeline(config: ResponderConfig, field: string, dependencies: PipelineDependencies): Pipeline {
  const { clock, logger } = dependencies;
  const deciding: Step[] = [];
  const finishing: Step[] = [];
  for (const name of RESPONDER_TYPE_STEPS[config.type]) {
    const enabledBy = {
      "tls-client-auth": config.tls !== undefined && config.tls.clientAuth !== "off",
      // A present signature is checked when authorization needs it, even if not required (issue #3).
      "request-signature": config.requestSignature !== undefined || config.authorization !== undefined,
      authorization: config.authorization !== undefined,
      forwarding: config.forwarding !== undefined,
      billing: config.billing !== undefined,
    } as const;
    if (isOptionalStep(config.type, name) && name in enabledBy && !enabledBy[name as keyof typeof enabledBy]) continue;
    const step = buildStep(name, config, field, dependencies);
    (FINISHING_STEPS.has(name) ? finishing : deciding).push(step);
  }
  return pipeline({
    deciding,
    finishing,
    rules: { maxSingleRequests: config.maxSingleRequests, noncePolicy: config.nonce.policy, nonceMaxLength: config.nonce.maxLength },
    issuers: dependencies.issuers,
    logger,
    clock,
    stepResults: dependencies.metrics === undefined ? undefined : stepResultRecorders(dependencies.metrics, config.name),
  });
}

function buildStep(name: string, config: ResponderConfig, field: string, dependencies: PipelineDependencies): Step {
  const { issuers, clock, trust } = dependencies;
  const requireTrust = () => {
    if (trust === undefined) throw new ConfigError("trust", `responder "${config.name}" authenticates certificates, which needs a trust store (trust.anchors)`);
    return trust;
  };
  switch (name) {
    case "tls-client-auth":
      return tlsClientAuthStep();
    case "freshness-proofs": {
      const { cache, anchors, revocation } = requireTrust();
      return freshnessProofsStep({ revocation, certificates: cache, anchors, maxAgeMs: config.freshnessProofs.maxAge, clock, logger: dependencies.logger });
    }
    case "request-signature": {
      const required = config.type.startsWith("identrus") || (config.requestSignature?.required ?? false);
      return requestSignatureStep({ required, ...requireTrust(), logger: dependencies.logger, candidates: dependencies.metrics?.signerCandidates.child({ responder: config.name }) });
    }
    case "authorization": {
      const authorization = config.authorization!;
      return authorizationStep(
        authorization.method === "byname" ? { method: "byname", names: nameMatcher(authorization.names, `${field}.authorization.names`) } : { method: "byauthentication" },
      );
    }
    case "response-cache":
      return responseCacheStep({ cache: requireCache(dependencies.responseCache, config, field) });
    case "forwarding":
      return buildForwardingStep(config.forwarding!, `${field}.forwarding`, {
        issuers,
        certificates: trust?.cache,
        // Cached types keep forwarded responses (no nonce, one single response) for later requests (SPEC §2 step 6).
        ...(dependencies.responseCache === undefined ? {} : { responseCache: dependencies.responseCache }),
        forwarder: dependencies.forwarder,
        clock,
        logger: dependencies.logger,
        metrics: dependencies.metrics === undefined ? undefined : { registry: dependencies.metrics, responder: config.name },
      });
    case "local-validation":
      // Only the cached types look in the response cache first; the basic types keep the plain step.
      return isCachedType(config)
        ? cacheFirstLocalValidationStep({
            issuers,
            nonIssued: config.nonIssued,
            clock,
            cache: requireCache(dependencies.responseCache, config, field),
            afterResponseCacheStep: RESPONDER_TYPE_STEPS[config.type].includes("response-cache"),
          })
        : localValidationStep({ issuers, nonIssued: config.nonIssued, clock });
    case "sign": {
      const sign = signStep({ noncePolicy: config.nonce.policy, clock, ownChainProofs: dependencies.ownChainProofs });
      const signing = isCachedType(config) ? signAndStoreStep(sign, { cache: requireCache(dependencies.responseCache, config, field), issuers }) : sign;
      // Outside signing and storing: a reused answer is neither signed nor stored again.
      return dependencies.reuse === undefined ? signing : reusingSignStep(signing, { table: dependencies.reuse, clock });
    }
    case "billing":
      return billingStep({
        sink: dependencies.billingSink!,
        responder: config.name,
        responderUrl: dependencies.url,
        perRequest: config.billing!.perRequest,
        perCert: config.billing!.perCert,
        countUnknown: config.billing!.countUnknown,
      });
    default:
      return sendStep({ clock });
  }
}

function isCachedType(config: ResponderConfig): boolean {
  return config.type === "cached" || config.type === "identrus-cached";
}

function requireCache(cache: ResponseCache | undefined, config: ResponderConfig, field: string): ResponseCache {
  if (cache === undefined) throw new ConfigError(`${field}.responseCache`, `responder type ${config.type} answers from a response cache, which needs responseCache (see docs/response-cache.md)`);
  return cache;
}
