/** The ten request-workflow steps of SPEC §2, spelled as the SPEC names them, in order. */
export const STEP_NAMES = [
  "tls-client-auth",
  "freshness-proofs",
  "request-signature",
  "authorization",
  "response-cache",
  "forwarding",
  "local-validation",
  "sign",
  "billing",
  "send",
] as const;

export type StepName = (typeof STEP_NAMES)[number];

/** Steps that run after an answer exists, whatever it is (SPEC steps 9 and 10). */
export const FINISHING_STEPS: ReadonlySet<StepName> = new Set(["billing", "send"]);
