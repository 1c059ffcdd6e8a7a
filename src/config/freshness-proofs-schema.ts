import { z } from "zod";
import { positiveDurationOr } from "./duration-schema.ts";

/**
 * The responder's `freshnessProofs` field (SPEC §2 steps 2 and 8, §4 "Freshness proof extension"),
 * used by the identrus-cached type only. Durations come out in milliseconds. Documented with an
 * annotated example in docs/freshness-proofs.md.
 */


export const freshnessProofsSchema = z
  .object({
    /** Step 2: a proof response in a request is used only when its thisUpdate is at most this old. */
    maxAge: positiveDurationOr("PT1H"),
    /** Step 8: responses for the responder's own chain are attached only while at most this old. */
    ownChainMaxAge: positiveDurationOr("PT1H"),
    /** Step 8: how often the own-chain proofs are fetched anew, in the background. */
    refreshInterval: positiveDurationOr("PT5M"),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.refreshInterval >= config.ownChainMaxAge) {
      context.addIssue({ code: "custom", path: ["refreshInterval"], message: "must be shorter than ownChainMaxAge, or the attached proofs would go stale between refreshes" });
    }
  });

