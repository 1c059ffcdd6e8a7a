import { z } from "zod";
import { filePath, programPath } from "./config-paths.ts";
import { positiveDurationOr } from "./duration-schema.ts";

/**
 * A secret that never sits in the configuration (the token PIN, a key passphrase): the first line of
 * `file`, or the variable `env`. `what` and `field` name it in the message for a secret written in.
 */
export function secretSourceSchema(what: string, field: string) {
  return z
    .object(
      { file: filePath.optional(), env: z.string().min(1, "must name a variable").optional() },
      // `pin: "1234"` is the likeliest mistake here: say where the secret goes instead.
      {
        error: (issue) =>
          issue.code === "invalid_type" && issue.input !== undefined
            ? `the ${what} is never written in the configuration: it must come from a file (${field}: { file: FILE }) or an environment variable (${field}: { env: NAME })`
            : undefined,
      },
    )
    .strict()
    .refine((secret) => (secret.file === undefined) !== (secret.env === undefined), "set exactly one of file or env");
}

/**
 * `signer.pkcs11`: a signing key that stays on a PKCS#11 token (HSM, smart card, SoftHSM2), used
 * instead of `signer.key`. The PIN is never written here: it comes from a file or an environment
 * variable. See docs/pkcs11.md.
 */
export const pkcs11Schema = z
  .object({
    /** Path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so (a bare file name is searched by the system loader). */
    module: programPath(z.string().min(1, "must name the PKCS#11 library")),
    /** Token label; the slot is found by it at each connection (slot IDs change, e.g. in SoftHSM). */
    token: z
      .string()
      .min(1, "must name the token label")
      .refine((label) => Buffer.byteLength(label) <= 32, "a token label has at most 32 octets"),
    /** Position among the slots that hold a token (0 first), only when several tokens share the label. */
    slot: z.number().int().min(0).optional(),
    /** CKA_LABEL of the private key. */
    key: z.string().min(1).optional(),
    /** CKA_ID of the private key, in hex (softhsm2-util --id, pkcs11-tool --id). */
    id: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2})+$/, "must be hex octets, e.g. 01 or a1b2")
      .optional(),
    /** Where the user PIN is read from: exactly one of `file` (its first line) or `env` (a variable name). */
    pin: secretSourceSchema("PIN", "pin"),
    /** Most sessions, i.e. signatures in progress on the token at once (default 4, libuv's thread pool size). */
    sessions: z.number().int().min(1).max(64).default(4),
    /** After a failed reconnection, requests get internalError at once for this long before the next attempt. */
    retryInterval: positiveDurationOr("PT1S"),
  })
  .strict()
  .refine((pkcs11) => pkcs11.key !== undefined || pkcs11.id !== undefined, { path: ["key"], message: "name the private key by key (its label) and/or id" });
