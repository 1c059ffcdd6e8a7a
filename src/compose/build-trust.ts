import type { Clock } from "../clock.ts";
import type { TrustConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { ServedIssuer } from "../issuers/issuer-directory.ts";
import { readCertificatesFile } from "../certificate-file.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";
import type { CertificateValidator } from "../trust/certificate-validator.ts";
import { certificateCache, loadCertificateFolder } from "../trust/memory-certificate-cache.ts";
import { revocationLookup, type RevocationLookup } from "../trust/revocation-lookup.ts";
import { rememberValidations } from "../trust/remembered-validations.ts";
import { openTrustCrls } from "../trust/trust-crls.ts";
import { crlFetchOptions } from "./crl-fetch-options.ts";
import { certificateValidator } from "../trust/validate-certificate.ts";

/** The process-wide trust store, certificate cache and validation process (SPEC §1, §3). */
export interface Trust {
  readonly validator: CertificateValidator;
  readonly cache: CertificateCache;
  /** The trust anchors (DER), e.g. to find the issuers of a freshness proof's responses. */
  readonly anchors: readonly Buffer[];
  /** The statuses the validation process uses: the sources of every issuer this process serves, then `trust.crls`. */
  readonly revocation: RevocationLookup;
  /** Stops reloading `trust.crls`. */
  close(): Promise<void>;
}

/**
 * Builds the validation process over the configured anchors, the certificate folder and the served
 * CA certificates (persistent cache); revocation statuses come from the sources of every issuer this
 * process serves, then `trust.crls` (e.g. an offline root's CRL for its issuing CAs), and, for
 * other issuers only, from the verified freshness proofs of the request being authenticated (SPEC
 * step 2). Throws ConfigError naming the field of a bad file. `offline` (`vouch check`): CRL URLs
 * are not fetched, only their state folder copies read, as for the issuers' sources.
 */
export async function buildTrust(config: TrustConfig, issuers: readonly ServedIssuer[], clock: Clock, logger: Logger, offline = false): Promise<Trust> {
  const anchors = (await Promise.all(config.anchors.map((file, index) => readCertificatesFile(file, `trust.anchors[${index}]`)))).flat();
  const persistent = config.certificates === undefined ? [] : await loadCertificateFolder(config.certificates, "trust.certificates");
  // The CAs Vouch serves are known certificates too: their clients' paths run through them.
  const served = issuers.map((issuer) => issuer.certificate).filter((certificate) => !anchors.some((anchor) => anchor.equals(certificate)));
  const cache = certificateCache({ persistent: [...persistent, ...served], maxCount: config.cache.maxCount, maxBytes: config.cache.maxBytes });
  const fetch = config.crlFetch === undefined ? undefined : { ...(await crlFetchOptions(config.crlFetch, "trust.crlFetch")), offline };
  const crls = await openTrustCrls(config.crls, [...anchors, ...persistent, ...served], clock, logger.child({ component: "trust.crls" }), "trust.crls", fetch);
  const revocation = revocationLookup([...issuers.map((issuer) => ({ certificate: issuer.certificate, source: issuer.source })), ...crls.issuers]);
  const validator = rememberValidations(certificateValidator({ anchors, cache, revocation, clock, unknownStatus: config.unknownStatus, maxDepth: config.maxDepth }), {
    ttlMs: config.rememberFor,
    maxEntries: config.cache.maxCount,
    clock,
  });
  return { validator, cache, anchors, revocation, close: () => crls.close() };
}
