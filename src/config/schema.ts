import { z } from "zod";
import { parseDuration } from "./duration.ts";

/**
 * The configuration file (YAML), validated once at start-up. Every field is documented here and in
 * the README's annotated example; relative file paths are resolved against the file's folder.
 */

const isoDuration = z.string().transform((text, context) => {
      const milliseconds = parseDuration(text);
      if (milliseconds === undefined || milliseconds <= 0) {
        context.addIssue({ code: "custom", message: `"${text}" is not a positive ISO 8601 duration such as PT1H or P1D` });
        return z.NEVER;
      }
      return milliseconds;
    });
const duration = (fallback: string) => z.string().default(fallback).pipe(isoDuration);

const filePath = z.string().min(1, "must name a file");

/** Where a responder listens. Several responders may share one address with different paths. */
const listenSchema = z
  .object({
    /** Address to bind; loopback by default, so nothing is exposed by accident. */
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535),
  })
  .strict();

/** A revocation source (SPEC §1); an issuer asks its sources in order, the first serving it answers. */
const sourceSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("index"),
      /** An OpenSSL CA database (`index.txt`), re-read when it changes. */
      file: filePath,
      /** Safety-net check for changes that file events miss. */
      pollInterval: duration("PT1S"),
    })
    .strict(),
  z
    .object({
      type: z.literal("crl"),
      /** Full and delta CRLs, PEM or DER, re-read when they change. */
      files: z.array(filePath).min(1, "at least one CRL file is required"),
      pollInterval: duration("PT1S"),
    })
    .strict(),
]);

/** The key and certificate that sign responses for one issuer (SPEC §1 "Signer"). */
const signerSchema = z
  .object({
    /** Delegated responder certificate (id-kp-OCSPSigning, issued by the CA); omit to sign as the CA. */
    certificate: filePath.optional(),
    /** PEM private key (PKCS#8, PKCS#1 or SEC1; unencrypted) of the certificate above, or of the CA. */
    key: filePath,
    /** RSA keys only: PKCS#1 v1.5 (default) or PSS. RSA-PSS keys always sign with PSS. */
    rsaPadding: z.enum(["pkcs1", "pss"]).default("pkcs1"),
  })
  .strict();

const issuerSchema = z
  .object({
    /** The CA certificate (PEM or DER) whose certificates this responder answers for. */
    certificate: filePath,
    signer: signerSchema,
    sources: z.array(sourceSchema).min(1, "an issuer needs at least one revocation source"),
    /** Response validity (nextUpdate − thisUpdate) when the source has no earlier nextUpdate; overrides the responder's. */
    responseValidity: isoDuration.optional(),
  })
  .strict();

/** Seams for SPEC steps that later versions build; enabling one is refused at start-up. */
const notYetBuilt = z.unknown().optional();

const responderSchema = z
  .object({
    /** Name used in logs and metrics. */
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, "use letters, digits, '.', '_' or '-'"),
    /** Responder type (SPEC §2): which steps run. */
    type: z.enum(["basic", "identrus-basic", "cached", "identrus-cached"]).default("basic"),
    listen: listenSchema,
    /** URL path prefix; POST goes to it, GET appends the base64 request to it. */
    path: z.string().startsWith("/", "must start with '/'").default("/"),
    /** Default nextUpdate − thisUpdate when the source data has no earlier nextUpdate. */
    responseValidity: duration("PT1H"),
    /** ResponderID choice (RFC 6960 §4.2.2.3). */
    responderId: z.enum(["byKey", "byName"]).default("byKey"),
    /** Also include the signer's issuing CA certificate after the signer certificate in `certs`. */
    includeChain: z.boolean().default(false),
    nonce: z
      .object({
        /** optional: echo when present; required: a request without one is malformed; ignored: never echoed. */
        policy: z.enum(["optional", "required", "ignored"]).default("optional"),
        /** Longest nonce accepted, in octets (RFC 8954: 32; RFC 9654 allows up to 128). */
        maxLength: z.number().int().min(1).max(128).default(32),
      })
      .strict()
      .prefault({}),
    /** What a client hears about a certificate its issuer never issued (SPEC §4). */
    nonIssued: z.enum(["unknown", "revoked"]).default("unknown"),
    /** Largest request body (POST) or decoded GET request accepted, in octets. */
    maxRequestBytes: z.number().int().min(64).max(1_048_576).default(65_536),
    /** Largest number of single requests in one OCSP request. */
    maxSingleRequests: z.number().int().min(1).max(10_000).default(100),
    /** Slow-client limits. */
    timeouts: z
      .object({
        headers: duration("PT5S"),
        request: duration("PT10S"),
        keepAlive: duration("PT5S"),
      })
      .strict()
      .prefault({}),
    issuers: z.array(issuerSchema).min(1, "a responder needs at least one issuer"),
    tls: notYetBuilt,
    requestSignature: notYetBuilt,
    authorization: notYetBuilt,
    forwarding: notYetBuilt,
    responseCache: notYetBuilt,
    billing: notYetBuilt,
  })
  .strict();

export const configSchema = z
  .object({
    log: z
      .object({ level: z.enum(["debug", "info", "warn", "error", "silent"]).default("info") })
      .strict()
      .prefault({}),
    responders: z.array(responderSchema).min(1, "at least one responder is required"),
  })
  .strict();

/** The validated configuration, with defaults filled in and durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
export type ResponderConfig = Config["responders"][number];
export type IssuerConfig = ResponderConfig["issuers"][number];
export type SourceConfig = IssuerConfig["sources"][number];
export type SignerConfig = IssuerConfig["signer"];
