import { z } from "zod";
import { filePath } from "./config-paths.ts";
import { positiveDurationOr } from "./duration-schema.ts";

/**
 * `admin`: the operator's listener for /metrics, /readyz and /healthz (docs/observability.md).
 * It is separate from the responders' listeners: with several worker processes sharing a responder
 * port (SO_REUSEPORT), a scrape of that port would reach one worker at random, while the admin
 * listener answers for all of them; and it keeps operational detail off the public OCSP port.
 */
export const adminSchema = z
  .object({
    listen: z
      .object({
        /** Loopback by default: metrics and readiness detail are for the operator's network only. */
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(0).max(65535),
      })
      .strict(),
    /**
     * A file holding the token (its first line) that `POST /cache/purge` must present as
     * `Authorization: Bearer <token>` (`vouch cache purge` reads it too). Absent: the endpoint is not served.
     */
    tokenFile: filePath.optional(),
    readiness: z
      .object({
        /** How long a signer's test signature result is reused by /readyz (and the ready gauge). */
        signerTestInterval: positiveDurationOr("PT5S"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

