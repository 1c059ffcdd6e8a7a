import { STEP_NAMES, type StepName } from "./step-names.ts";

export type ResponderType = "basic" | "identrus-basic" | "cached" | "identrus-cached";

/** The SPEC §2 table as data: which steps each responder type runs, in order. */
export const RESPONDER_TYPE_STEPS: Readonly<Record<ResponderType, readonly StepName[]>> = {
  basic: ["tls-client-auth", "request-signature", "authorization", "forwarding", "local-validation", "sign", "billing", "send"],
  "identrus-basic": ["tls-client-auth", "request-signature", "authorization", "forwarding", "local-validation", "sign", "billing", "send"],
  cached: ["tls-client-auth", "request-signature", "authorization", "response-cache", "forwarding", "local-validation", "sign", "billing", "send"],
  // The full workflow: identrus-cached runs every SPEC step.
  "identrus-cached": STEP_NAMES,
};

/**
 * Steps that run only where configured (SPEC §2: "Steps 1, 3, 4, 6 and 9 run only where configured").
 * The identrus types require signed requests, so for them request-signature is always on.
 */
export function isOptionalStep(type: ResponderType, step: StepName): boolean {
  if (step === "request-signature") return type === "basic" || type === "cached";
  return step === "tls-client-auth" || step === "authorization" || step === "forwarding" || step === "billing";
}
