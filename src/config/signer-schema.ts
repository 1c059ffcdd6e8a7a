import { z } from "zod";
import { commandLine, filePath } from "./config-paths.ts";
import { positiveDuration, positiveDurationOr } from "./duration-schema.ts";
import { pkcs11Schema, secretSourceSchema } from "./pkcs11-schema.ts";


/**
 * `signer.renew`: Vouch makes the next key and certificate request itself, runs `command` with the
 * request (PEM) on standard input and takes the issued certificate (PEM) from its standard output
 * (docs/signer-lifecycle.md has recipes for `openssl ca`, EJBCA and step-ca).
 */
const renewSchema = z
  .object({
    /** Renew this long before the newest signer's notAfter. */
    before: positiveDurationOr("P14D"),
    /** The program and its arguments (no shell); a relative program path is resolved against the configuration's folder. */
    command: commandLine(z.array(z.string().min(1)).min(1, "name the program to run")),
    /** A run taking longer is killed and counts as a failure. */
    timeout: positiveDurationOr("PT2M"),
    /** First wait after a failure; it doubles with each failure in a row, up to `maxRetryInterval`. */
    retryInterval: positiveDurationOr("PT1M"),
    maxRetryInterval: positiveDurationOr("PT1H"),
  })
  .strict();

/**
 * One signer of an issuer (SPEC §1 "Signer"), or a directory of them: exactly one of `key` (a key
 * file, with `certificate`, or the CA's own key), `pkcs11` (a key on a token) or `directory` (pairs
 * NAME.pem + NAME.key, for staged rollover and renewal). Files are watched: a changed certificate or
 * key is used without SIGHUP once it passes the start-up checks (docs/signer-lifecycle.md).
 */
const signerSchema = z
  .object({
    /** Delegated responder certificate (id-kp-OCSPSigning, issued by the CA); omit to sign as the CA. */
    certificate: filePath.optional(),
    /** PEM private key (PKCS#8, PKCS#1 or SEC1; plain or encrypted) of the certificate above, or of the CA. */
    key: filePath.optional(),
    /** Instead of `key`: the private key on a PKCS#11 token (docs/pkcs11.md). */
    pkcs11: pkcs11Schema.optional(),
    /** Instead of `certificate` and `key`: a folder of signers, each NAME.pem (certificate) beside NAME.key. */
    directory: filePath.optional(),
    /** Passphrase of encrypted key files: the first line of `file`, or the variable `env`. */
    passphrase: secretSourceSchema("passphrase", "passphrase").optional(),
    /** RSA keys only: PKCS#1 v1.5 (default) or PSS. RSA-PSS keys always sign with PSS. */
    rsaPadding: z.enum(["pkcs1", "pss"]).default("pkcs1"),
    /** A new signer takes over from an older valid one this long after its notBefore (default: at once). */
    activateAfter: positiveDuration.optional(),
    /** Warn (a log line a day, and in readiness) this long before a signer's notAfter when nothing takes over. */
    warnBefore: positiveDurationOr("P30D"),
    /** Safety-net check for changed signer files that file events miss. */
    pollInterval: positiveDurationOr("PT5S"),
    /** Automatic renewal (directory signers only). */
    renew: renewSchema.optional(),
  })
  .strict()
  .superRefine((signer, context) => {
    const kinds = [signer.key, signer.pkcs11, signer.directory].filter((kind) => kind !== undefined).length;
    if (kinds !== 1) context.addIssue({ code: "custom", path: ["key"], message: "set exactly one of key (a key file), pkcs11 (a key on a token) or directory (a folder of signers)" });
    if (signer.directory !== undefined && signer.certificate !== undefined) {
      context.addIssue({ code: "custom", path: ["certificate"], message: "a directory holds its certificates (NAME.pem beside NAME.key): leave certificate out" });
    }
    if (signer.renew !== undefined && signer.directory === undefined) {
      context.addIssue({ code: "custom", path: ["renew"], message: "renewal installs new signers in a directory: set directory instead of certificate and key" });
    }
    if (signer.passphrase !== undefined && signer.pkcs11 !== undefined) {
      context.addIssue({ code: "custom", path: ["passphrase"], message: "a token key has a PIN (pkcs11.pin), not a passphrase" });
    }
  });

export type SignerConfig = z.output<typeof signerSchema>;

/**
 * An issuer's `signer` (one) or `signers` (several, e.g. a classical and an ML-DSA signer, or the
 * current and the next); exactly one of the two.
 */
export const issuerSignersShape = {
  signer: signerSchema.optional(),
  signers: z.array(signerSchema).min(1, "list at least one signer").optional(),
};

/** The check that an issuer has exactly one of `signer` and `signers`, for the issuer's superRefine. */
export function checkIssuerSigners(issuer: { readonly signer?: unknown; readonly signers?: unknown }, context: z.RefinementCtx): void {
  if ((issuer.signer === undefined) === (issuer.signers === undefined)) {
    context.addIssue({ code: "custom", path: ["signer"], message: "set exactly one of signer (one signer) or signers (a list)" });
  }
}
