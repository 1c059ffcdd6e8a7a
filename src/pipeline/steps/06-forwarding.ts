import { ConfigError } from "../../errors.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 6: forwarding. Not built in this version (issue #4); a configuration that enables it
 * (forwarding) is refused at start-up, so that no request is ever served without the check it asked for.
 */
export function forwardingStep(field: string): Step {
  throw new ConfigError(field, "forwarding (SPEC step 6) is not available in this version of Vouch");
}
