const CRL_URL = /^(https?|ldaps?):\/\/[^\s]+$/i;

/**
 * Whether a configured CRL location is a URL to fetch (http, https, ldap, ldaps) rather than a file.
 * It lives with the CRL loaders, below the configuration and the validation process that both ask it.
 */
export function isCrlUrl(location: string): boolean {
  return CRL_URL.test(location);
}
