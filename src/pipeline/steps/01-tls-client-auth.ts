import { ConfigError } from "../../errors.ts";
import type { Step } from "../step.ts";

/**
 * SPEC step 1: TLS client authentication. Not built in this version (issue #3); a configuration that enables it
 * (tls) is refused at start-up, so that no request is ever served without the check it asked for.
 */
export function tlsClientAuthStep(field: string): Step {
  throw new ConfigError(field, "TLS client authentication (SPEC step 1) is not available in this version of Vouch");
}
