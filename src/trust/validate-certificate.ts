/**
 * The SPEC §3 validation process: authenticates a certificate by building a path up to a trust
 * anchor through the anchors and the certificate cache, depth first, trying every candidate issuer.
 *
 * A certificate is authenticated when it is byte-equal to a trust anchor, or when all of these hold:
 * - it parses and has no critical extension Vouch does not understand (`malformed`);
 * - now is within its validity (`expired`, `not-yet-valid`);
 * - (end certificate only) its key usage fits the purpose (`usage`, see certificate-checks.ts);
 * - one candidate issuer (same subject DER as its issuer DER, or found by its authorityKeyIdentifier
 *   among certificates with an equal subject name; those whose subjectKeyIdentifier matches first):
 *   - keeps the path within `maxDepth` certificates, anchor included (`depth`),
 *   - verifies its signature (`bad-signature`),
 *   - is a CA allowed to sign certificates (`not-a-ca`), within its pathLenConstraint
 *     (`path-length`) and its name constraints over every certificate below it (`name-constraints`),
 *   - and, asked through that issuer, the revocation sources say it is good (`revoked`,
 *     `status-unknown`; unknown passes with unknownStatus "pass", and for an end certificate
 *     authenticated as an OCSP response signer that carries id-pkix-ocsp-nocheck; a revocation is
 *     never excused, see certificate-checks.ts skipsStatusCheck),
 *   - and that issuer is an anchor, or is itself authenticated this way (without the usage check).
 * Trust anchors are trusted as configured: no validity, revocation or critical-extension check, as
 * in RFC 5280 §6.1. As issuers their basicConstraints, keyUsage, pathLenConstraint and name
 * constraints are applied when present (RFC 5937 style), so an anchor that says it is not a CA
 * cannot issue.
 * Not checked: certificate policies (any-policy, so critical policyConstraints, policyMappings and
 * inhibitAnyPolicy fail as `malformed`), extendedKeyUsage of CAs, the issuer's validity at the time
 * it signed (the chain model): all certificates must be valid now (the shell model).
 *
 * A failure names the first failing check of one path; when every path fails, the most specific
 * failure is reported (revoked beats a decoy's bad signature, which beats no path; see
 * certificate-checks.ts). Loops are cut (a certificate is never its own ancestor) and the whole
 * search is bounded by a budget of candidate issuers, reported as `depth`.
 * Statuses are asked anew on every call; the only state kept across calls is the certificate cache,
 * whose authenticated tier every non-anchor certificate of a successful path joins (certificates
 * sent with the one authenticated, and the cache's unauthenticated tier, only help find a path).
 */
import { X509Certificate, createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import type { CertificateCache } from "./certificate-cache.ts";
import type { Failure } from "./certificate-checks.ts";
import {
  checkCriticalExtensions,
  checkIssuerIsCa,
  checkNameConstraints,
  checkPathLength,
  checkStatus,
  checkUsage,
  checkValidity,
  describe,
  moreSpecific,
  skipsStatusCheck,
} from "./certificate-checks.ts";
import type { CertificateValidator, ValidationPurpose, ValidationResult } from "./certificate-validator.ts";
import { namesEqual } from "./name-compare.ts";
import type { ParsedCertificate } from "./parse-certificate.ts";
import { parseCertificate } from "./parse-certificate.ts";
import type { ProvenStatuses } from "./proven-statuses.ts";
import type { RevocationLookup } from "./revocation-lookup.ts";

/** Options of `certificateValidator`. */
export interface CertificateValidatorOptions {
  /** Trust anchors (DER). */
  readonly anchors: readonly Buffer[];
  readonly cache: CertificateCache;
  readonly revocation: RevocationLookup;
  readonly clock: Clock;
  /** What a certificate whose status nobody knows does: fail (SPEC default) or pass. */
  readonly unknownStatus: "fail" | "pass";
  /** Most certificates in a path, the anchor included (default 8, at most 64). */
  readonly maxDepth?: number | undefined;
}

/** Default of `maxDepth`, the configuration's default too. */
const DEFAULT_MAX_DEPTH = 8;
/** Candidate issuers one authentication may try: bounds the work a crafted cache can cause. */
const CANDIDATE_BUDGET = 64;
/** Candidate issuers considered for one certificate. */
const MAX_CANDIDATES = 16;
/** Certificates sent with the one authenticated that may serve as issuers (a chain is a few). */
const MAX_UNTRUSTED = 8;

/** A certificate in the search, with its DER's digest (identity for loops and duplicates). */
interface Node {
  readonly parsed: ParsedCertificate;
  readonly digest: string;
  readonly anchor: boolean;
}

/** State of one authentication. */
interface Search {
  readonly now: number;
  readonly purpose: ValidationPurpose;
  readonly signal: AbortSignal;
  /** The verified freshness proofs of the request being authenticated, if any. */
  readonly proofs: ProvenStatuses | undefined;
  /** Parsed certificates sent with the one authenticated (see `authenticate`). */
  readonly untrusted: readonly Node[];
  budget: number;
}

/**
 * A validator over the given anchors and cache. Throws ConfigError naming the field of an invalid
 * option (`anchors[i]` for an anchor that is not a certificate Vouch can parse).
 */
export function certificateValidator(options: CertificateValidatorOptions): CertificateValidator {
  const { cache, revocation, clock } = checkOptions(options);
  const unknownStatus = options.unknownStatus;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const anchors = new Map<string, Node>();
  options.anchors.forEach((der, index) => {
    let parsed: ParsedCertificate;
    try {
      if (!Buffer.isBuffer(der)) throw new TypeError("not a Buffer");
      parsed = parseCertificate(der);
      x509Of(parsed);
    } catch (error) {
      throw new ConfigError(`anchors[${index}]`, `not a certificate Vouch can use: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    anchors.set(digestOf(der), { parsed, digest: digestOf(der), anchor: true });
  });
  const anchorsBySubject = groupBy([...anchors.values()], (node) => node.parsed.fields.subjectDer.toString("hex"));
  const anchorsBySki = groupBy([...anchors.values()], (node) => node.parsed.subjectKeyId?.toString("hex"));

  const nodeOf = (der: Buffer): Node | Failure => {
    const digest = digestOf(der);
    const anchor = anchors.get(digest);
    if (anchor !== undefined) return anchor;
    try {
      const parsed = parseCertificate(der);
      x509Of(parsed);
      return { parsed, digest, anchor: false };
    } catch (error) {
      return { failed: "malformed", detail: `not a certificate Vouch can parse: ${error instanceof Error ? error.message : String(error)}` };
    }
  };

  /**
   * Candidate issuers of `child`, best first: those found by its authorityKeyIdentifier (names must
   * still chain, RFC 5280 §6.1.3 (a)(4)), then those found by name; anchors first, then the
   * certificates sent with this one, then the cache (its trusted tiers before a few unauthenticated
   * certificates). At most MAX_CANDIDATES are kept (and twice that parsed): clients choose what they
   * send, and a flood of look-alike CAs (same name, or same key identifier) must not cost more.
   */
  const candidatesOf = (child: ParsedCertificate, untrusted: readonly Node[]): Array<Node | Failure> => {
    const keyId = child.authorityKeyId;
    const issuerKey = child.fields.issuerDer.toString("hex");
    const sent = (matches: (node: Node) => boolean): Buffer[] => untrusted.filter(matches).map((node) => node.parsed.der);
    const byKey =
      keyId === undefined
        ? []
        : [...(anchorsBySki.get(keyId.toString("hex")) ?? []).map((node) => node.parsed.der), ...sent((node) => node.parsed.subjectKeyId?.equals(keyId) === true), ...cache.findBySubjectKeyId(keyId)];
    const byName = [
      ...(anchorsBySubject.get(issuerKey) ?? []).map((node) => node.parsed.der),
      ...sent((node) => node.parsed.fields.subjectDer.equals(child.fields.issuerDer)),
      ...cache.findBySubject(child.fields.issuerDer),
    ];
    const found = new Map<string, Node | Failure>();
    const seen = new Set<string>();
    for (const der of [...byKey, ...byName]) {
      if (found.size >= MAX_CANDIDATES || seen.size >= 2 * MAX_CANDIDATES) break;
      const digest = digestOf(der);
      if (seen.has(digest)) continue;
      seen.add(digest);
      const node = nodeOf(der);
      if ("parsed" in node && !node.parsed.fields.subjectDer.equals(child.fields.issuerDer) && !namesEqual(node.parsed.subject, child.issuer)) continue;
      found.set(digest, node);
    }
    // Among same-name candidates, a matching key identifier first and a mismatching one last.
    const rank = (candidate: Node | Failure): number => {
      if (!("parsed" in candidate) || keyId === undefined || candidate.parsed.subjectKeyId === undefined) return 1;
      return candidate.parsed.subjectKeyId.equals(keyId) ? 0 : 2;
    };
    return [...found.values()].sort((a, b) => rank(a) - rank(b));
  };

  /** Extends `path` (end certificate first) up to an anchor: the whole chain, or the best failure. */
  const extend = async (path: readonly Node[], search: Search): Promise<Node[] | Failure> => {
    const top = path.at(-1)!;
    const candidates = candidatesOf(top.parsed, search.untrusted);
    const fresh = candidates.filter((candidate) => !("parsed" in candidate) || !path.some((node) => node.digest === candidate.digest));
    if (fresh.length === 0) {
      const why = candidates.length === 0 ? "no trust anchor or cached certificate is its issuer" : "its only issuers are already on the path (a loop)";
      return { failed: "no-path", detail: `${describe(top.parsed)}: ${why}` };
    }
    let best: Failure | undefined;
    for (const candidate of fresh) {
      const result = "parsed" in candidate ? await tryIssuer(path, candidate, search) : candidate;
      if (Array.isArray(result)) return result;
      best = moreSpecific(best, result);
    }
    return best!;
  };

  /** Whether `issuer` can extend `path`, and the rest of the path above it. */
  const tryIssuer = async (path: readonly Node[], issuer: Node, search: Search): Promise<Node[] | Failure> => {
    search.signal.throwIfAborted();
    const child = path.at(-1)!;
    if (path.length + 1 > maxDepth) return { failed: "depth", detail: `a path through ${describe(issuer.parsed)} has more than ${maxDepth} certificates` };
    if (--search.budget < 0) return { failed: "depth", detail: `tried more than ${CANDIDATE_BUDGET} candidate issuers` };
    if (!verifies(child.parsed, issuer.parsed)) {
      return { failed: "bad-signature", detail: `the signature of ${describe(child.parsed)} does not verify with the key of ${describe(issuer.parsed)}` };
    }
    const below = path.map((node) => node.parsed);
    const failure = checkIssuerIsCa(issuer.parsed, issuer.anchor) ?? checkPathLength(issuer.parsed, below) ?? checkNameConstraints(issuer.parsed, below);
    if (failure !== undefined) return failure;
    const answer = await revocation.status(child.parsed.der, issuer.parsed.der, search.signal, search.proofs);
    const exempt = path.length === 1 && skipsStatusCheck(child.parsed, search.purpose);
    const statusFailure = checkStatus(child.parsed, answer, exempt ? "pass" : unknownStatus);
    if (statusFailure !== undefined) return statusFailure;
    if (issuer.anchor) return [...path, issuer];
    const own = checkValidity(issuer.parsed, search.now) ?? checkCriticalExtensions(issuer.parsed);
    if (own !== undefined) return own;
    return extend([...path, issuer], search);
  };

  return {
    async authenticate(certificate: Buffer, purpose: ValidationPurpose, signal: AbortSignal, proofs?: ProvenStatuses, untrusted: readonly Buffer[] = []): Promise<ValidationResult> {
      const node = nodeOf(certificate);
      if (!("parsed" in node)) return { ok: false, ...node };
      if (node.anchor) return { ok: true, chain: [node.parsed.der] };
      const now = clock.now();
      const failure = checkValidity(node.parsed, now) ?? checkCriticalExtensions(node.parsed) ?? checkUsage(node.parsed, purpose);
      if (failure !== undefined) return { ok: false, ...failure };
      // The certificate itself is often among those sent with it: parsed once, not again as an issuer.
      const sent = untrusted
        .slice(0, MAX_UNTRUSTED)
        .filter((other) => !other.equals(certificate))
        .map(nodeOf)
        .filter((other): other is Node => "parsed" in other && !other.anchor);
      const result = await extend([node], { now, purpose, signal, proofs, untrusted: sent, budget: CANDIDATE_BUDGET });
      if (!Array.isArray(result)) return { ok: false, ...result };
      for (const step of result) if (!step.anchor) cache.addAuthenticated(step.parsed.der);
      return { ok: true, chain: result.map((step) => step.parsed.der) };
    },
  };
}

function checkOptions(options: CertificateValidatorOptions): CertificateValidatorOptions {
  if (!Array.isArray(options.anchors) || options.anchors.length === 0) throw new ConfigError("anchors", "at least one trust anchor is required");
  if (typeof options.cache?.findBySubject !== "function") throw new ConfigError("cache", "must be a CertificateCache");
  if (typeof options.revocation?.status !== "function") throw new ConfigError("revocation", "must be a RevocationLookup");
  if (typeof options.clock?.now !== "function") throw new ConfigError("clock", "must be a Clock");
  if (options.unknownStatus !== "fail" && options.unknownStatus !== "pass") throw new ConfigError("unknownStatus", 'must be "fail" or "pass"');
  const depth = options.maxDepth;
  if (depth !== undefined && (!Number.isSafeInteger(depth) || depth < 1 || depth > 64)) throw new ConfigError("maxDepth", "must be an integer from 1 to 64");
  return options;
}

/** node:crypto objects, made once per parsed certificate (anchors once per validator). */
const x509s = new WeakMap<ParsedCertificate, X509Certificate>();

function x509Of(parsed: ParsedCertificate): X509Certificate {
  let x509 = x509s.get(parsed);
  if (x509 === undefined) {
    x509 = new X509Certificate(parsed.der);
    x509s.set(parsed, x509);
  }
  return x509;
}

/** OpenSSL verifies the signature with the issuer's key: RSA, RSA-PSS, ECDSA, Ed25519 and Ed448. */
function verifies(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return x509Of(child).verify(x509Of(issuer).publicKey);
  } catch {
    return false;
  }
}

function digestOf(der: Buffer): string {
  return createHash("sha256").update(der).digest("base64");
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}
