import { z } from "zod";
import { parseDuration } from "./duration.ts";

/** An ISO 8601 duration (`PT30S`, `PT1H`, `P1D`) greater than zero, as milliseconds; one clear message otherwise. */
export const positiveDuration = z.string().transform((text, context) => {
  const milliseconds = parseDuration(text);
  if (milliseconds === undefined || milliseconds <= 0) {
    context.addIssue({ code: "custom", message: `"${text}" is not a positive ISO 8601 duration such as PT1H or P1D` });
    return z.NEVER;
  }
  return milliseconds;
});

/** `positiveDuration` with a default. */
export const positiveDurationOr = (fallback: string) => z.string().default(fallback).pipe(positiveDuration);

/** An ISO 8601 duration of zero or more (PT0S turns something off), as milliseconds, with a default. */
export const durationOr = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, context) => {
      const milliseconds = parseDuration(text);
      if (milliseconds === undefined || milliseconds < 0) {
        context.addIssue({ code: "custom", message: `"${text}" is not an ISO 8601 duration such as PT1M (PT0S turns it off)` });
        return z.NEVER;
      }
      return milliseconds;
    });
