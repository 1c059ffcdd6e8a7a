import { ConfigError } from "../../errors.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 2: freshness proofs. Not built in this version (issue #4); a configuration that enables it
 * (the identrus-cached responder type) is refused at start-up, so that no request is ever served without the check it asked for.
 */
export function freshnessProofsStep(field: string): Step {
  throw new ConfigError(field, "freshness proofs (SPEC step 2) is not available in this version of Vouch");
}
