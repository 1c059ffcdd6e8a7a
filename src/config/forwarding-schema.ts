import { z } from "zod";
import { filePath } from "./config-paths.ts";
import { parseUrlPattern } from "../forwarding/url-pattern.ts";
import { positiveDurationOr } from "./duration-schema.ts";

/**
 * A responder's `forwarding` field (SPEC step 6): where requests go, which come back, and how hard
 * Vouch tries. docs/forwarding.md has the annotated example.
 */


const httpUrl = z.string().refine((text) => {
  const url = URL.parse(text);
  return url !== null && (url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === "";
}, "must be an http:// or https:// URL without credentials");

const FORWARDING_METHODS = ["servicelocator", "table", "fromcert"] as const;

export const forwardingSchema = z
  .object({
    /** Discovery methods, tried in this order; each is used at most once. */
    methods: z
      .array(z.enum(FORWARDING_METHODS))
      .min(1, "name at least one method: servicelocator, table or fromcert")
      .refine((methods) => new Set(methods).size === methods.length, "a method is listed twice"),
    /** `table`: issuer DN pattern → remote URL, first match wins. */
    table: z.array(z.object({ issuer: z.string().min(1), url: httpUrl }).strict()).default([]),
    /**
     * Where `servicelocator` (a URL from the request) and `fromcert` (a URL from a certificate) may
     * send requests: exact URLs, or prefixes ending in `*` that reach the "/" after the host
     * (e.g. "https://ocsp.acme.example/*"); see forwarding/url-pattern.ts. Required with either
     * method. `table` URLs are allowed by being configured.
     */
    allowedUrls: z.array(z.string()).default([]),
    /** Replaced by allowedUrls; kept only to say so. */
    serviceLocatorAllow: z.unknown().optional(),
    /** Only requests whose issuer's subject matches one of these DN patterns are forwarded; omit to forward every issuer. */
    onlyForIssuer: z.array(z.string().min(1)).min(1, "list at least one DN pattern, or omit the field").optional(),
    /** Checks on what comes back; a response that fails one falls to the next method. */
    checks: z
      .object({
        /** Require a signature by an authorized responder (the CA, or its delegated OCSP signer) or a signer below. */
        verifySignature: z.boolean().default(true),
        /** Responder certificates (PEM or DER files) trusted to answer for any issuer. */
        signerCertificates: z.array(filePath).default([]),
        /** When set, the signer's subject must also match one of these DN patterns. */
        signerNames: z.array(z.string().min(1)).min(1, "list at least one DN pattern, or omit the field").optional(),
        /**
         * required: a request's nonce must be echoed; ifEchoed: an answer without a nonce is accepted
         * (remotes that serve pre-signed responses ignore nonces), but an echoed one must match.
         */
        nonce: z.enum(["required", "ifEchoed"]).default("required"),
        /** Pass `unknown` answers on (true) or try the next method (false). */
        allowUnknown: z.boolean().default(true),
        /** Clock difference tolerated in the remote's thisUpdate / nextUpdate. */
        clockSkew: positiveDurationOr("PT5M"),
      })
      .strict()
      .prefault({}),
    /** Deadline of each attempt: connect, send, and the whole answer. */
    timeout: positiveDurationOr("PT2S"),
    /** Further attempts at one URL after a timeout, connection failure or garbage. */
    retries: z.number().int().min(0).max(5).default(1),
    /** Circuit breaker per remote URL. */
    breaker: z
      .object({
        /** Consecutive failures that open the circuit. */
        failures: z.number().int().min(1).default(5),
        /** How long an open circuit stays open before one trial request. */
        coolDown: positiveDurationOr("PT30S"),
      })
      .strict()
      .prefault({}),
    /** Largest answer accepted from a remote, in octets. */
    maxResponseBytes: z.number().int().min(1024).max(16_777_216).default(65_536),
  })
  .strict()
  .superRefine((forwarding, context) => {
    if (forwarding.methods.includes("table") && forwarding.table.length === 0) {
      context.addIssue({ code: "custom", path: ["table"], message: "the table method needs at least one row" });
    }
    forwarding.allowedUrls.forEach((text, index) => {
      const parsed = parseUrlPattern(text);
      if (!parsed.ok) context.addIssue({ code: "custom", path: ["allowedUrls", index], message: parsed.problem });
    });
    for (const method of ["servicelocator", "fromcert"] as const) {
      if (forwarding.methods.includes(method) && forwarding.allowedUrls.length === 0) {
        context.addIssue({ code: "custom", path: ["allowedUrls"], message: `the ${method} method needs allowedUrls: the URLs it may send requests to (the URL comes from the ${method === "fromcert" ? "certificate" : "request"})` });
      }
    }
    if (forwarding.serviceLocatorAllow !== undefined) {
      context.addIssue({ code: "custom", path: ["serviceLocatorAllow"], message: 'replaced by allowedUrls, which covers fromcert too: write each prefix followed by * (e.g. "http://ocsp.acme.example/*")' });
    }
  });

export type ForwardingConfig = z.output<typeof forwardingSchema>;
