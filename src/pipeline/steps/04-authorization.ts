import { ConfigError } from "../../errors.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 4: authorization. Not built in this version (issue #3); a configuration that enables it
 * (authorization) is refused at start-up, so that no request is ever served without the check it asked for.
 */
export function authorizationStep(field: string): Step {
  throw new ConfigError(field, "authorization (SPEC step 4) is not available in this version of Vouch");
}
