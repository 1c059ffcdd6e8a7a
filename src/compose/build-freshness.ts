import type { Clock } from "../clock.ts";
import type { ResponderConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { IssuerDirectory } from "../issuers/issuer-directory.ts";
import { ownChainProofs, type BackEndQuery, type OwnChainProofs } from "../responses/own-chain-proofs.ts";
import type { ResponseCache } from "../responses/response-cache.ts";
import type { Trust } from "./build-trust.ts";

/**
 * The own-chain freshness proofs of an identrus-cached responder (SPEC step 8), refreshing in the
 * background until closed; `undefined` for the other types. `responses` gives the responder's
 * response cache once it is built (it signs with these proofs, so it comes second). The back-end
 * client is not wired yet (forwarding): proofs come from the response cache and local validation.
 */
export function buildOwnChainProofs(
  responder: ResponderConfig,
  issuers: IssuerDirectory,
  responses: () => ResponseCache | undefined,
  trust: Trust | undefined,
  clock: Clock,
  logger: Logger,
  backEnd?: BackEndQuery,
): OwnChainProofs | undefined {
  if (responder.type !== "identrus-cached") return undefined;
  return ownChainProofs({
    issuers,
    responses: { get: async (id) => responses()?.get(id) },
    anchors: trust?.anchors ?? [],
    certificates: trust?.cache,
    ...(backEnd === undefined ? {} : { backEnd }),
    ...(trust === undefined ? {} : { revocation: trust.revocation }),
    maxAgeMs: responder.freshnessProofs.ownChainMaxAge,
    refreshIntervalMs: responder.freshnessProofs.refreshInterval,
    clock,
    logger,
  });
}
