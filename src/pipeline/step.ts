import type { Exchange } from "./exchange.ts";
import type { StepName } from "./step-names.ts";

/**
 * One SPEC §2 step, built with its dependencies. Deciding steps (1–8) may set `exchange.response`
 * or throw an OcspError; finishing steps (9, 10) always run and must not throw for expected outcomes.
 */
export interface Step {
  readonly name: StepName;
  run(exchange: Exchange): Promise<void> | void;
}
