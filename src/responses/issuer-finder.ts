import { certificateFields } from "../ocsp/certificate-fields.ts";
import { issuerMatcher, type IssuerMatcher } from "../ocsp/issuer-matcher.ts";
import type { CertId } from "../ocsp/types.ts";

/**
 * `issuerOf` for checkResponse: the certificate among `candidates` (DER) whose subject name and public
 * key hash to a CertID's issuerNameHash and issuerKeyHash (the one matcher, ocsp/issuer-matcher.ts),
 * or `undefined`. Candidates that are not certificates are skipped. Hashes are computed once, on
 * first use.
 */
export function issuerFinder(candidates: readonly Buffer[]): (certId: CertId) => Buffer | undefined {
  let matcher: IssuerMatcher<Buffer> | undefined;
  return (certId) => {
    matcher ??= issuerMatcher(candidates.filter(isCertificate).map((certificate) => [certificate, certificate] as const));
    return matcher.find(certId);
  };
}

function isCertificate(candidate: Buffer): boolean {
  try {
    certificateFields(candidate);
    return true;
  } catch {
    return false;
  }
}
