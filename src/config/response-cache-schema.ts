import { z } from "zod";
import { positiveDuration, positiveDurationOr } from "./duration-schema.ts";

/**
 * The responder's `responseCache` field (SPEC §6): the cached types' response cache. Durations come
 * out in milliseconds. Documented with an annotated example in docs/response-cache.md.
 */


/** One row of the per-issuer table; issuers matching no row are not cached. */
const issuerRowSchema = z
  .object({
    /** DN pattern (SPEC §1) for the issuer's subject, e.g. "cn=*,o=Acme,c=SE". The first matching row applies. */
    issuer: z.string().min(1, "must be a DN pattern"),
    /** How long a stored response is served at most; never past its own nextUpdate. */
    expiresAfter: positiveDuration,
    /** Renewing: refresh responses `margin` before they expire, in the background. */
    renew: z.object({ margin: positiveDuration }).strict().optional(),
    /**
     * Pre-production: sign a response for every certificate the issuer's sources list, in the
     * background (needs `renew`, so that they stay fresh). `hashAlgorithms`: the CertID hash
     * algorithms to produce for (clients choose; OpenSSL and most others send SHA-1).
     */
    preProduce: z
      .object({ hashAlgorithms: z.array(z.enum(["sha1", "sha256", "sha384", "sha512"])).min(1).default(["sha1"]) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((row, context) => {
    if (row.renew !== undefined && row.renew.margin >= row.expiresAfter) {
      context.addIssue({ code: "custom", path: ["renew", "margin"], message: "must be shorter than expiresAfter" });
    }
    if (row.preProduce !== undefined && row.renew === undefined) {
      context.addIssue({ code: "custom", path: ["preProduce"], message: "needs renew.margin, or pre-produced responses would expire and the hot path would sign again" });
    }
  });

/** The shared tier (several Vouch instances serve one cache). */
const redisSchema = z
  .object({
    /** e.g. redis://127.0.0.1:6379/0 (rediss:// for TLS). */
    url: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL"),
    /** Prefix of every key; default "vouch:<responder name>:" so that responders never share answers by accident. */
    keyPrefix: z.string().min(1).optional(),
    /** Longest wait for any Redis command; slower counts as a miss (get) or a dropped write (put). */
    timeout: positiveDurationOr("PT0.2S"),
    /** An outage is logged at most once per this interval (with the count of failures). */
    logInterval: positiveDurationOr("PT1M"),
  })
  .strict();

export const responseCacheSchema = z
  .object({
    /** Most responses kept in memory. */
    maxCount: z.number().int().min(1).default(100_000),
    /** Most bytes kept in memory (bodies plus ~256 bytes per entry). */
    maxBytes: z.number().int().min(4096).default(256 * 1024 * 1024),
    issuers: z.array(issuerRowSchema).min(1, "list at least one issuer row; issuers matching no row are not cached"),
    /** Background signing (renewing and pre-production) is rate-limited by a token bucket. */
    background: z
      .object({
        /** Responses signed per second in the background. */
        perSecond: z.number().positive().default(100),
        /** Bucket size: how many may be signed at once after a quiet spell. */
        burst: z.number().int().min(1).default(100),
        /** How often pre-production looks for certificates the sources added. */
        rescanInterval: positiveDurationOr("PT5M"),
      })
      .strict()
      .prefault({}),
    redis: redisSchema.optional(),
  })
  .strict();

/** The validated `responseCache` field, durations in milliseconds. */
export type ResponseCacheConfig = z.output<typeof responseCacheSchema>;
