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
  /** Counts each certificate tried as the signer (`vouch_request_signature_candidates_total`). */
  readonly candidates?: BoundCounter | undefined;
}

/**
 * SPEC step 3: the request signature. The request's certificates go into the certificate cache;
 * candidates are those certificates and the cache's certificates named by requestorName; the
 * signature is verified over the exact received tbsRequest bytes with each candidate's key, and a
 * candidate whose key verifies it must be authenticated by the validation process. Throws
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
      for (const certificate of signature.certs) cache.add(certificate);
      const candidates = [...signature.certs];
      if (request.requestorName !== undefined) {
        for (const named of cache.findByGeneralName(request.requestorName)) {
          if (!candidates.some((known) => known.equals(named))) candidates.push(named);
        }
      }
      if (candidates.length === 0) throw new UnauthorizedError("the request is signed, but carries no certificate and names none Vouch knows");
      const failures: string[] = [];
      for (const candidate of candidates) {
        options.candidates?.inc();
        const known = parsed(candidate);
        if (known === undefined) {
          failures.push("an unparsable certificate");
          continue;
        }
        if (!(await verifySignedData(signature.algorithm.der, request.tbsRequestDer, known.publicKey, signature.signature))) {
          failures.push(`${known.subject}: the signature does not verify with its key`);
          continue;
        }
        const result = await validator.authenticate(candidate, "request-signing", exchange.signal, exchange.freshnessProofs);
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
