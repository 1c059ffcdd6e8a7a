import { z } from "zod";
import { crlLocation, filePath } from "./config-paths.ts";
import { durationOr, positiveDuration, positiveDurationOr } from "./duration-schema.ts";
import { accessLogSchema } from "./access-log-schema.ts";
import { adminSchema } from "./admin-schema.ts";
import { parseDuration } from "./duration.ts";
import { limitsSchema } from "./limits-schema.ts";
import { sqlSourceSchema } from "./sql-source-schema.ts";
import { crlFetchSchema, crlSourceSchema } from "./crl-source-schema.ts";
import { checkIssuerSigners, issuerSignersShape } from "./signer-schema.ts";
import { freshnessProofsSchema } from "./freshness-proofs-schema.ts";
import { responseCacheSchema } from "./response-cache-schema.ts";
import { forwardingSchema } from "./forwarding-schema.ts";

/**
 * The configuration file (YAML), validated once at start-up. Every field is documented here and in
 * the README's annotated example; relative file paths are resolved against the file's folder.
 */


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
      pollInterval: positiveDurationOr("PT1S"),
    })
    .strict(),
  crlSourceSchema,
  sqlSourceSchema,
]);

const issuerSchema = z
  .object({
    /** The CA certificate (PEM or DER) whose certificates this responder answers for. */
    certificate: filePath,
    /** The key and certificate that sign for it (signer-schema.ts): `signer`, or several as `signers`. */
    ...issuerSignersShape,
    sources: z.array(sourceSchema).min(1, "an issuer needs at least one revocation source"),
    /** Response validity (nextUpdate − thisUpdate) when the source has no earlier nextUpdate; overrides the responder's. */
    responseValidity: positiveDuration.optional(),
  })
  .strict()
  .superRefine(checkIssuerSigners);

/** HTTPS for a listener, and TLS client authentication (SPEC step 1). */
const tlsSchema = z
  .object({
    /** Server certificate (PEM; may be followed by its chain). */
    certificate: filePath,
    /** Server private key (PEM, unencrypted). */
    key: filePath,
    /**
     * off: no client certificate asked; optional: asked, and a client without one is served (but
     * authenticates nothing); required: a client without one is disconnected. A client certificate
     * that fails the validation process always gets the connection closed.
     */
    clientAuth: z.enum(["off", "optional", "required"]).default("off"),
  })
  .strict();

/** SPEC step 3. */
const requestSignatureSchema = z
  .object({
    /** true: unsigned requests get sigRequired; false: a signature is checked only when authorization needs it. */
    required: z.boolean().default(true),
  })
  .strict();

/** SPEC step 4. */
const authorizationSchema = z
  .object({
    /** byauthentication: any certificate authenticated by steps 1 or 3; byname: its subject must match `names`. */
    method: z.enum(["byauthentication", "byname"]),
    /** DN patterns (RFC 4514, `*` and `?` wildcards) for byname. */
    names: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** SPEC step 9: one durable record per request. */
const billingSchema = z
  .object({
    sink: z.enum(["file", "postgres"]),
    /** file sink: folder of daily JSON-lines files. */
    directory: filePath.optional(),
    /** postgres sink: e.g. postgres://postgres@127.0.0.1:5432/test */
    connectionString: z.string().min(1).optional(),
    /** postgres sink: table name (created when missing). */
    table: z.string().regex(/^[a-z_][a-z0-9_]{0,43}$/, "use at most 44 lower-case letters, digits and '_'").default("vouch_billing"),
    /** Record the number of single requests. */
    perRequest: z.boolean().default(true),
    /** Record each certificate asked (issuer, serial, status). */
    perCert: z.boolean().default(false),
    /** Count `unknown` answers too. */
    countUnknown: z.boolean().default(false),
  })
  .strict();

/** The SPEC §1 trust store and certificate cache, used by the validation process (SPEC §3). */
const trustSchema = z
  .object({
    /** Trust anchors: PEM or DER files (a PEM file may hold several certificates). */
    anchors: z.array(filePath).min(1, "at least one trust anchor is required"),
    /** A folder of intermediate CA and remote responder certificates, loaded at start (persistent cache). */
    certificates: filePath.optional(),
    /**
     * CRL files (PEM or DER, full and delta) for the validation process: the status of certificates
     * whose issuer no responder serves, e.g. an offline root's CRL for its issuing CAs. Each CRL's
     * issuer must be an anchor or in `certificates`; re-read when the file changes. An entry may also
     * be a URL (http, https, ldap, ldaps: e.g. the root's CRL distribution point), fetched as
     * `crlFetch` says, like a crl source's `urls`.
     */
    crls: z.array(crlLocation(z.string().min(1, "must name a CRL file or URL"))).default([]),
    /** How `crls` URLs are fetched (required with any): the crl source's `fetch` block. */
    crlFetch: crlFetchSchema.optional(),
    /** Bounds of the dynamic cache of certificates learned from signed requests. */
    cache: z
      .object({
        maxCount: z.number().int().min(1).default(10_000),
        maxBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    /** A certificate whose status no revocation source knows: fail (default) or pass. */
    unknownStatus: z.enum(["fail", "pass"]).default("fail"),
    /** Longest certificate path, anchor included. */
    maxDepth: z.number().int().min(1).max(16).default(8),
    /**
     * How long a successful validation (a TLS client or request signer) is remembered; a revocation
     * reaches a remembered certificate within this time. PT0S validates every time.
     */
    rememberFor: z.string().default("PT10S").transform((text, context) => {
      const milliseconds = text === "PT0S" ? 0 : parseDuration(text);
      if (milliseconds === undefined) {
        context.addIssue({ code: "custom", message: `"${text}" is not an ISO 8601 duration such as PT10S` });
        return z.NEVER;
      }
      return milliseconds;
    }),
  })
  .strict();

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
    responseValidity: positiveDurationOr("PT1H"),
    /**
     * A request without a nonce for one certificate may be answered with a response signed this
     * recently for the same CertID and still saying what the sources say (never past its nextUpdate;
     * evicted by change events): repeated GETs get the same bytes, If-None-Match its 304, and no
     * signature each (issue 14 item 4). PT0S signs every response anew.
     */
    reuseFor: durationOr("PT1M"),
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
        headers: positiveDurationOr("PT5S"),
        request: positiveDurationOr("PT10S"),
        keepAlive: positiveDurationOr("PT5S"),
      })
      .strict()
      .prefault({}),
    issuers: z.array(issuerSchema).min(1, "a responder needs at least one issuer"),
    tls: tlsSchema.optional(),
    requestSignature: requestSignatureSchema.optional(),
    authorization: authorizationSchema.optional(),
    /** SPEC step 6 (docs/forwarding.md). */
    forwarding: forwardingSchema.optional(),
    /** SPEC §6: the response cache of the cached types (response-cache-schema.ts). */
    responseCache: responseCacheSchema.optional(),
    billing: billingSchema.optional(),
    /** identrus-cached: freshness proofs (freshness-proofs-schema.ts). */
    freshnessProofs: freshnessProofsSchema.prefault({}),
  })
  .strict();

export const configSchema = z
  .object({
    log: z
      .object({
        level: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
        /** One JSON line per request, sampled or full, to stdout or a file (access-log-schema.ts); off when absent. */
        access: accessLogSchema.optional(),
      })
      .strict()
      .prefault({}),
    trust: trustSchema.optional(),
    /** Load shedding (limits-schema.ts, docs/operations.md). */
    limits: limitsSchema,
    /** /metrics and /readyz (admin-schema.ts, docs/observability.md). */
    admin: adminSchema.optional(),
    responders: z.array(responderSchema).min(1, "at least one responder is required"),
  })
  .strict()
  .superRefine((config, context) => {
    config.responders.forEach((responder, index) => {
      const at = (...path: (string | number)[]) => ["responders", index, ...path];
      const needsTrust =
        (responder.tls !== undefined && responder.tls.clientAuth !== "off") ||
        responder.requestSignature !== undefined ||
        responder.authorization !== undefined ||
        responder.type.startsWith("identrus");
      if (needsTrust && config.trust === undefined) {
        context.addIssue({ code: "custom", path: ["trust"], message: `responder "${responder.name}" authenticates certificates, which needs a trust store (trust.anchors)` });
      }
      if (responder.authorization?.method === "byname" && responder.authorization.names.length === 0) {
        context.addIssue({ code: "custom", path: at("authorization", "names"), message: "byname authorization needs at least one DN pattern" });
      }
      if (responder.billing?.sink === "file" && responder.billing.directory === undefined) {
        context.addIssue({ code: "custom", path: at("billing", "directory"), message: "the file sink needs a directory" });
      }
      if (responder.billing?.sink === "postgres" && responder.billing.connectionString === undefined) {
        context.addIssue({ code: "custom", path: at("billing", "connectionString"), message: "the postgres sink needs a connectionString" });
      }
    });
  });

/** The validated configuration, with defaults filled in and durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
export type ResponderConfig = Config["responders"][number];
export type IssuerConfig = ResponderConfig["issuers"][number];
export type SourceConfig = IssuerConfig["sources"][number];
export type { SignerConfig } from "./signer-schema.ts";
export type BillingConfig = NonNullable<ResponderConfig["billing"]>;
export type TrustConfig = NonNullable<Config["trust"]>;
