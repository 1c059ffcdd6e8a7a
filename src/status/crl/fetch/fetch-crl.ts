/** A fetch of a CRL into a file by the protocol its URL names. */
import { httpFetch } from "./http-fetch.ts";
import { ldapFetch } from "./ldap-fetch.ts";
import type { FetchLimits, FetchOutcome, Validators } from "./fetch-types.ts";

/** The URL schemes a CRL source may name. */
export const CRL_URL_PROTOCOLS: readonly string[] = ["http:", "https:", "ldap:", "ldaps:"];

/** Fetches `url` into `file` (see httpFetch, ldapFetch). Rejects for a scheme not in CRL_URL_PROTOCOLS. */
export function fetchCrl(url: URL, file: string, validators: Validators, limits: FetchLimits, cancel?: AbortSignal): Promise<FetchOutcome> {
  switch (url.protocol) {
    case "http:":
    case "https:":
      return httpFetch(url, file, validators, limits, cancel);
    case "ldap:":
    case "ldaps:":
      return ldapFetch(url, file, limits, cancel);
    default:
      return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  }
}
