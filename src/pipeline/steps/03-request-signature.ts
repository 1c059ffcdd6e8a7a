import { X509Certificate } from "node:crypto";
import { SigRequiredError, UnauthorizedError } from "../../errors.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import type { Logger } from "../../observability/logger.ts";
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
        let publicKey;
        try {
          publicKey = new X509Certificate(candidate).publicKey;
        } catch {
          failures.push("an unparsable certificate");
          continue;
        }
        if (!(await verifySignedData(signature.algorithm.der, request.tbsRequestDer, publicKey, signature.signature))) {
          failures.push(`${subjectOf(candidate)}: the signature does not verify with its key`);
          continue;
        }
        const result = await validator.authenticate(candidate, "request-signing", exchange.signal);
        if (result.ok) {
          const subjectDer = certificateFields(candidate).subjectDer;
          exchange.authenticated.push({ via: "signature", certificate: candidate, subjectDer, subject: distinguishedName(subjectDer) });
          return;
        }
        failures.push(`${subjectOf(candidate)}: ${result.failed} (${result.detail})`);
      }
      throw new UnauthorizedError(`request signature not accepted: ${failures.join("; ")}`);
    },
  };
}

function subjectOf(certificate: Buffer): string {
  try {
    return distinguishedName(certificateFields(certificate).subjectDer);
  } catch {
    return "a certificate";
  }
}
