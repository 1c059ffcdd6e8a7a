/**
 * URL discovery for forwarding (SPEC step 6): each method names the remote responder for a
 * request, or nothing. The request goes out whole, so every single request must lead to the same
 * URL; when they disagree the method yields nothing and the next one is tried.
 */
import { id_pkix_ocsp_service_locator } from "../ocsp/oids.ts";
import type { OcspRequest, SingleRequest } from "../ocsp/types.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";
import type { NameMatcher } from "../trust/name-match.ts";
import { parseCertificate } from "../trust/parse-certificate.ts";
import { subjectOf, type IssuerOf } from "./known-issuers.ts";
import { ocspUrlsOfCertificate, ocspUrlsOfServiceLocator } from "./ocsp-urls.ts";

/** The discovery methods, by their configuration names. */
export type DiscoveryMethod = "servicelocator" | "table" | "fromcert";

/** One `table` row: an issuer DN pattern and the remote URL for its certificates. */
export interface TableRow {
  readonly issuer: NameMatcher;
  readonly url: URL;
}

/** Options of `urlDiscovery`. */
export interface DiscoveryOptions {
  /** `table` rows, first match wins. */
  readonly table: readonly TableRow[];
  /**
   * `servicelocator`: URL prefixes a client-named URL must start with. The URL comes from the
   * request, so without this list any client could make Vouch send requests anywhere.
   */
  readonly serviceLocatorAllow: readonly string[];
  /** `fromcert`: where target certificates are found (by issuer and serial). */
  readonly cache: CertificateCache | undefined;
  readonly issuerOf: IssuerOf;
}

/** Finds the remote URL for a request by one method. */
export interface UrlDiscovery {
  /** The URL `method` names for every single request of `request`, or `undefined`. */
  find(method: DiscoveryMethod, request: OcspRequest): URL | undefined;
}

export function urlDiscovery(options: DiscoveryOptions): UrlDiscovery {
  const { table, serviceLocatorAllow, cache, issuerOf } = options;
  // Target certificates' AIA URLs, parsed once per cached certificate (the cache hands back the same Buffer).
  const aiaUrls = new WeakMap<Buffer, URL | undefined>();

  const bySingle: Record<DiscoveryMethod, (single: SingleRequest) => URL | undefined> = {
    servicelocator(single) {
      const extension = single.extensions.find((candidate) => candidate.oid === id_pkix_ocsp_service_locator);
      if (extension === undefined) return undefined;
      let urls: URL[];
      try {
        urls = ocspUrlsOfServiceLocator(extension.value);
      } catch {
        return undefined;
      }
      return urls.find((url) => serviceLocatorAllow.some((prefix) => url.href.startsWith(prefix)));
    },
    table(single) {
      const issuer = issuerOf(single.certId);
      if (issuer === undefined) return undefined;
      const subject = subjectOf(issuer);
      return table.find((row) => row.issuer.matches(subject))?.url;
    },
    fromcert(single) {
      const issuer = issuerOf(single.certId);
      if (issuer === undefined || cache === undefined) return undefined;
      const [target] = cache.findByIssuerAndSerial(subjectOf(issuer), single.certId.serialNumber);
      if (target === undefined) return undefined;
      if (!aiaUrls.has(target)) aiaUrls.set(target, ocspUrlsOfCertificate(parseCertificate(target).extensions)[0]);
      return aiaUrls.get(target);
    },
  };

  return {
    find(method, request) {
      let found: URL | undefined;
      for (const single of request.requests) {
        const url = bySingle[method](single);
        if (url === undefined || (found !== undefined && found.href !== url.href)) return undefined;
        found = url;
      }
      return found;
    },
  };
}
