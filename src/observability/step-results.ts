/**
 * Per-step results for `vouch_step_results_total{responder,step,result}`, reported by the pipeline
 * runner for every step, so that no step counts its own: `answered` (the step produced the
 * response: for the response-cache step, a cache hit), `passed` (it ran and the request went on:
 * a cache miss), or the OCSP error status it failed with. The decoding before step 1 reports as
 * step `decode`.
 */
import { OCSP_ERROR_STATUSES, type OcspErrorStatus } from "../errors.ts";
import type { BoundCounter, VouchMetrics } from "./metrics.ts";

/** The counters of one step of one responder, bound when the pipeline is built. */
export interface StepResultRecorder {
  answered(): void;
  passed(): void;
  failed(status: OcspErrorStatus): void;
}

/** Returns a factory of step recorders for `responder`'s pipeline. */
export function stepResultRecorders(metrics: VouchMetrics, responder: string): (step: string) => StepResultRecorder {
  return (step) => {
    const child = (result: string): BoundCounter => metrics.stepResults.child({ responder, step, result });
    const answered = child("answered");
    const passed = child("passed");
    const failed = new Map(OCSP_ERROR_STATUSES.map((status) => [status, child(status)] as const));
    return {
      answered: () => answered.inc(),
      passed: () => passed.inc(),
      failed: (status) => failed.get(status)!.inc(),
    };
  };
}

/** A recorder that counts nothing (pipelines built without metrics). */
export const NO_STEP_RESULTS: StepResultRecorder = { answered() {}, passed() {}, failed() {} };
