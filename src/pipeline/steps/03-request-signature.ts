import { ConfigError } from "../../errors.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 3: request signature checking. Not built in this version (issue #3); a configuration that enables it
 * (requestSignature, or an identrus responder type) is refused at start-up, so that no request is ever served without the check it asked for.
 */
export function requestSignatureStep(field: string): Step {
  throw new ConfigError(field, "request signature checking (SPEC step 3) is not available in this version of Vouch");
}
