import { ConfigError } from "../../errors.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 5: the response cache. Not built in this version (issue #4); a configuration that enables it
 * (responseCache, or a cached responder type) is refused at start-up, so that no request is ever served without the check it asked for.
 */
export function responseCacheStep(field: string): Step {
  throw new ConfigError(field, "the response cache (SPEC step 5) is not available in this version of Vouch");
}
