import type { Clock } from "../clock.ts";
import type { ResponderConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { IssuerDirectory } from "../pipeline/issuer-directory.ts";
import { pipeline, type Pipeline } from "../pipeline/pipeline.ts";
import { RESPONDER_TYPE_STEPS, isOptionalStep } from "../pipeline/responder-types.ts";
import { FINISHING_STEPS } from "../pipeline/step-names.ts";
import type { Step } from "../pipeline/step.ts";
import { tlsClientAuthStep } from "../pipeline/steps/01-tls-client-auth.ts";
import { freshnessProofsStep } from "../pipeline/steps/02-freshness-proofs.ts";
import { requestSignatureStep } from "../pipeline/steps/03-request-signature.ts";
import { authorizationStep } from "../pipeline/steps/04-authorization.ts";
import { responseCacheStep } from "../pipeline/steps/05-response-cache.ts";
import { forwardingStep } from "../pipeline/steps/06-forwarding.ts";
import { localValidationStep } from "../pipeline/steps/07-local-validation.ts";
import { signStep } from "../pipeline/steps/08-sign.ts";
import { billingStep } from "../pipeline/steps/09-billing.ts";
import { sendStep } from "../pipeline/steps/10-send.ts";

/**
 * Builds one responder's pipeline from its type (the SPEC §2 table in responder-types.ts) and its
 * configuration. Steps that are off are left out of the list, not skipped on every request.
 * Throws ConfigError for a step that the configuration enables but this version does not have.
 */
export function buildPipeline(config: ResponderConfig, field: string, issuers: IssuerDirectory, clock: Clock, logger: Logger): Pipeline {
  const deciding: Step[] = [];
  const finishing: Step[] = [];
  for (const name of RESPONDER_TYPE_STEPS[config.type]) {
    const enabledBy = {
      "tls-client-auth": config.tls,
      "request-signature": config.requestSignature,
      authorization: config.authorization,
      forwarding: config.forwarding,
      billing: config.billing,
    } as const;
    if (isOptionalStep(config.type, name) && name in enabledBy && enabledBy[name as keyof typeof enabledBy] === undefined) continue;
    const step = buildStep(name, config, field, issuers, clock);
    (FINISHING_STEPS.has(name) ? finishing : deciding).push(step);
  }
  return pipeline({
    deciding,
    finishing,
    rules: { maxSingleRequests: config.maxSingleRequests, noncePolicy: config.nonce.policy, nonceMaxLength: config.nonce.maxLength },
    logger,
    clock,
  });
}

function buildStep(name: string, config: ResponderConfig, field: string, issuers: IssuerDirectory, clock: Clock): Step {
  const typeField = `${field}.type`;
  switch (name) {
    case "tls-client-auth":
      return tlsClientAuthStep(`${field}.tls`);
    case "freshness-proofs":
      return freshnessProofsStep(typeField);
    case "request-signature":
      return requestSignatureStep(config.requestSignature === undefined ? typeField : `${field}.requestSignature`);
    case "authorization":
      return authorizationStep(`${field}.authorization`);
    case "response-cache":
      return responseCacheStep(typeField);
    case "forwarding":
      return forwardingStep(`${field}.forwarding`);
    case "local-validation":
      return localValidationStep({ issuers, nonIssued: config.nonIssued, clock });
    case "sign":
      return signStep({ noncePolicy: config.nonce.policy, clock });
    case "billing":
      return billingStep(`${field}.billing`);
    default:
      return sendStep({ clock });
  }
}
