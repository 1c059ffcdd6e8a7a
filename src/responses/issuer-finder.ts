import { issuerHashes, type IssuerHashes } from "../ocsp/cert-id.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";

/**
 * `issuerOf` for checkResponse: the certificate among `candidates` (DER) whose subject name and public
 * key hash to a CertID's issuerNameHash and issuerKeyHash, or `undefined`. Candidates that are not
 * certificates are skipped. Hashes are computed once, on first use.
 */
export function issuerFinder(candidates: readonly Buffer[]): (certId: CertId) => Buffer | undefined {
  let hashed: { certificate: Buffer; hashes: ReadonlyMap<HashAlgorithm, IssuerHashes> }[] | undefined;
  return (certId) => {
    hashed ??= candidates.flatMap((certificate) => {
      try {
        return [{ certificate, hashes: issuerHashes(certificate) }];
      } catch {
        return [];
      }
    });
    for (const { certificate, hashes } of hashed) {
      const expected = hashes.get(certId.hashAlgorithm);
      if (expected !== undefined && expected.keyHash.equals(certId.issuerKeyHash) && expected.nameHash.equals(certId.issuerNameHash)) return certificate;
    }
    return undefined;
  };
}
