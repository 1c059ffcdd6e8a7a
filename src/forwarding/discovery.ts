/**
 * URL discovery for forwarding (SPEC step 6): each method names the remote responder for a
 * request, or nothing. The request goes out whole, so every single request must lead to the same
 * URL; when they disagree the method yields nothing and the next one is tried. A URL that the
 * configuration did not write (`servicelocator` from the request, `fromcert` from a certificate)
 * must be allowed by `forwarding.allowedUrls` (or be a `table` URL); one that is not is reported as refused, so that the
 * forwarder logs and counts it before trying the next method.
 */
import { id_pkix_ocsp_service_locator } from "../ocsp/oids.ts";
import type { OcspRequest, SingleRequest } from "../ocsp/types.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";
import type { NameMatcher } from "../trust/name-match.ts";
import { parseCertificate } from "../trust/parse-certificate.ts";
import { subjectOf, type IssuerOf } from "./known-issuers.ts";
import { ocspUrlsOfCertificate, ocspUrlsOfServiceLocator } from "./ocsp-urls.ts";
import type { UrlAllowList } from "./url-pattern.ts";

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
   * Where `servicelocator` and `fromcert` URLs may lead (`forwarding.allowedUrls`). They come from
   * the request or from a certificate: without this list a client could make Vouch post anywhere.
   */
  readonly allowed: UrlAllowList;
  /**
   * `fromcert`: where target certificates are found (by issuer and serial). Only its trusted tiers
   * answer: a certificate a client merely sent never names a URL.
   */
  readonly cache: CertificateCache | undefined;
  readonly issuerOf: IssuerOf;
}

/** What one method found: a URL to try, a URL the allow-list refuses, or nothing. */
export type Discovered = { readonly url: URL; readonly allowed: boolean } | undefined;

/** Finds the remote URL for a request by one method. */
export interface UrlDiscovery {
  /**
   * The URL `method` names for every single request of `request` (with `allowed` false when any
   * single request's URL is outside the allow-list), or `undefined`.
   */
  find(method: DiscoveryMethod, request: OcspRequest): Discovered;
}

export function urlDiscovery(options: DiscoveryOptions): UrlDiscovery {
  const { table, allowed, cache, issuerOf } = options;
  // Target certificates' AIA URLs, parsed once per cached certificate (the cache hands back the same Buffer).
  const aiaUrls = new WeakMap<Buffer, URL | undefined>();
  // The table's URLs are allowed by being configured, whichever method names them.
  const allows = (url: URL): boolean => allowed.allows(url) || table.some((row) => row.url.href === url.href);
  const checked = (url: URL | undefined): Discovered => (url === undefined ? undefined : { url, allowed: allows(url) });

  const bySingle: Record<DiscoveryMethod, (single: SingleRequest) => Discovered> = {
    servicelocator(single) {
      const extension = single.extensions.find((candidate) => candidate.oid === id_pkix_ocsp_service_locator);
      if (extension === undefined) return undefined;
      let urls: URL[];
      try {
        urls = ocspUrlsOfServiceLocator(extension.value);
      } catch {
        return undefined;
      }
      // The first allowed locator; when none is, the first one, refused.
      return checked(urls.find(allows) ?? urls[0]);
    },
    table(single) {
      const issuer = issuerOf(single.certId);
      if (issuer === undefined) return undefined;
      const subject = subjectOf(issuer);
      // Configured URLs are allowed by being configured.
      const url = table.find((row) => row.issuer.matches(subject))?.url;
      return url === undefined ? undefined : { url, allowed: true };
    },
    fromcert(single) {
      const issuer = issuerOf(single.certId);
      if (issuer === undefined || cache === undefined) return undefined;
      const [target] = cache.findByIssuerAndSerial(subjectOf(issuer), single.certId.serialNumber);
      if (target === undefined) return undefined;
      if (!aiaUrls.has(target)) aiaUrls.set(target, ocspUrlsOfCertificate(parseCertificate(target).extensions)[0]);
      return checked(aiaUrls.get(target));
    },
  };

  return {
    find(method, request) {
      let found: Discovered;
      for (const single of request.requests) {
        const next = bySingle[method](single);
        if (next === undefined || (found !== undefined && found.url.href !== next.url.href)) return undefined;
        // The same URL is allowed or not for every single request alike.
        found = next;
      }
      return found;
    },
  };
}
