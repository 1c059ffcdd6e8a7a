import { ConfigError } from "../../errors.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 9: billing. Not built in this version (issue #3); a configuration that enables it
 * (billing) is refused at start-up, so that no request is ever served without the check it asked for.
 */
export function billingStep(field: string): Step {
  throw new ConfigError(field, "billing (SPEC step 9) is not available in this version of Vouch");
}
