import { X509Certificate, type KeyObject } from "node:crypto";
import { SigRequiredError, UnauthorizedError } from "../../errors.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import type { Logger } from "../../observability/logger.ts";
import type { BoundCounter } from "../../observability/metrics.ts";
import { verifySignedData } from "../../signing/verify-signed-data.ts";
import type { CertificateCache } from "../../trust/certificate-cache.ts";
import type { CertificateValidator } from "../../trust/certificate-validator.ts";
import { distinguishedName } from "../../trust/distinguished-name.ts";
import type { Step } from "../step.ts";

export interface RequestSignatureOptions {
  /** true: an unsigned request gets sigRequired; false: a signature is checked when present. */
  readonly required: boolean;
  readonly validator: CertificateValidator;
  readonly cache: CertificateCache;
  readonly logger: Logger;
  /** Counts each candidate signer certificate a request considered (`vouch_request_signature_candidates_total`). */
  readonly candidates?: BoundCounter | undefined;
}

/** Signer candidates one request considers: a few named in the cache, then a few it sent. */
const NAMED_CANDIDATES = 4;
const SENT_CANDIDATES = 4;
/** A request's certificates looked at (the signer and its chain are a few; more is junk). */
const SENT_CERTIFICATES = 8;

/**
 * SPEC step 3: the request signature. The request's certificates (the first SENT_CERTIFICATES) go into the certificate cache's
 * unauthenticated tier: they are untrusted until the validation process accepts a path through
 * them. Candidates are the cache's certificates named by requestorName (its trusted tiers first)
 * and the request's own certificates, a few of each, so that one request costs a bounded amount
 * whatever earlier requests sent. The signature is verified over the exact received tbsRequest
 * bytes with each candidate's key, and a candidate whose key verifies it must be authenticated by
 * the validation process, with the request's certificates as possible issuers. Throws
 * SigRequiredError for an unsigned request when required, UnauthorizedError when no candidate
 * both verifies and authenticates.
 */
export function requestSignatureStep(options: RequestSignatureOptions): Step {
  const { required, validator, cache } = options;
  const parsed = parsedCertificates(1024);
  return {
    name: "request-signature",
    async run(exchange) {
      const request = exchange.request!;
      const signature = request.signature;
      if (signature === undefined) {
        if (required) throw new SigRequiredError("this responder requires signed requests");
        return;
      }
      const sent = signature.certs.slice(0, SENT_CERTIFICATES);
      for (const certificate of sent) cache.add(certificate);
      const candidates: Buffer[] = [];
      const consider = (found: readonly Buffer[], most: number): void => {
        let taken = 0;
        for (const certificate of found) {
          if (taken === most) return;
          if (candidates.some((known) => known.equals(certificate))) continue;
          candidates.push(certificate);
          taken++;
        }
      };
      if (request.requestorName !== undefined) consider(cache.findByGeneralName(request.requestorName), NAMED_CANDIDATES);
      consider(sent, SENT_CANDIDATES);
      if (candidates.length === 0) throw new UnauthorizedError("the request is signed, but carries no certificate and names none Vouch knows");
      candidates.forEach(() => options.candidates?.inc());
      const failures: string[] = [];
      for (const candidate of candidates) {
        const known = parsed(candidate);
        if (known === undefined) {
          failures.push("an unparsable certificate");
          continue;
        }
        if (!(await verifySignedData(signature.algorithm.der, request.tbsRequestDer, known.publicKey, signature.signature))) {
          failures.push(`${known.subject}: the signature does not verify with its key`);
          continue;
        }
        const result = await validator.authenticate(candidate, "request-signing", exchange.signal, exchange.freshnessProofs, sent);
        if (result.ok) {
          exchange.authenticated.push({ via: "signature", certificate: candidate, subjectDer: known.subjectDer, subject: known.subject });
          return;
        }
        failures.push(`${known.subject}: ${result.failed} (${result.detail})`);
      }
      throw new UnauthorizedError(`request signature not accepted: ${failures.join("; ")}`);
    },
  };
}

interface ParsedSigner {
  readonly publicKey: KeyObject;
  readonly subjectDer: Buffer;
  readonly subject: string;
}

/**
 * Parsing a requestor's certificate (key, subject) costs more than checking its signature; clients
 * sign request after request with the same certificate, so the parse is kept (bounded, oldest
 * forgotten first). This holds no trust decision: validation runs (or is remembered) separately.
 */
function parsedCertificates(limit: number): (certificate: Buffer) => ParsedSigner | undefined {
  const known = new Map<string, ParsedSigner>();
  return (certificate) => {
    const key = certificate.toString("latin1");
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    let entry: ParsedSigner;
    try {
      const subjectDer = certificateFields(certificate).subjectDer;
      entry = { publicKey: new X509Certificate(certificate).publicKey, subjectDer, subject: distinguishedName(subjectDer) };
    } catch {
      return undefined;
    }
    known.set(key, entry);
    if (known.size > limit) known.delete(known.keys().next().value!);
    return entry;
  };
}
