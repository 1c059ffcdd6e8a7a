/**
 * `forwarding.allowedUrls` patterns: where forwarding may send a request when the URL came from the
 * request (`servicelocator`) or from a certificate (`fromcert`), not from the configuration.
 *
 * A pattern is an absolute http:// or https:// URL without credentials or fragment, either:
 * - exact: it matches that URL only;
 * - a prefix, ending in one `*`: it matches every URL that starts with the part before the `*`.
 *   That part must reach the "/" that starts the path, so a pattern never covers another host or
 *   port (`https://ocsp.acme.example*` would also match `https://ocsp.acme.example.evil.net/`).
 * `*` anywhere else is refused. Patterns and URLs are compared in their WHATWG-normalised form
 * (`URL.href`: scheme and host lower case, default port dropped, an empty path as "/", dot segments
 * resolved), so `HTTP://OCSP.Acme.Example:80` is `http://ocsp.acme.example/`, and a URL cannot leave a
 * prefix through `/../`.
 */
import { ConfigError } from "../errors.ts";

/** A parsed pattern. */
export interface UrlPattern {
  /** The pattern's normalised text (a prefix keeps its trailing `*`). */
  readonly text: string;
  matches(url: URL): boolean;
}

/** A pattern, or what is wrong with the text. */
export type ParsedUrlPattern = { readonly ok: true; readonly pattern: UrlPattern } | { readonly ok: false; readonly problem: string };

/** Parses one pattern (see the module comment). Never throws. */
export function parseUrlPattern(text: string): ParsedUrlPattern {
  const prefix = text.endsWith("*");
  const body = prefix ? text.slice(0, -1) : text;
  const fail = (problem: string): ParsedUrlPattern => ({ ok: false, problem: `${JSON.stringify(text)}: ${problem}` });
  if (body.includes("*")) return fail("a * may only end a pattern (a prefix)");
  const url = URL.parse(body);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) return fail("must be an http:// or https:// URL, or such a URL prefix ending in *");
  if (url.username !== "" || url.password !== "") return fail("must not hold credentials");
  if (body.includes("#")) return fail("must not hold a fragment");
  if (prefix && !/^https?:\/\/[^/?#]+\//i.test(body)) return fail('a prefix must reach the "/" after the host (e.g. https://ocsp.example/*), so that it cannot cover other hosts');
  const normalised = url.href;
  return {
    ok: true,
    pattern: prefix ? { text: `${normalised}*`, matches: (candidate) => candidate.href.startsWith(normalised) } : { text: normalised, matches: (candidate) => candidate.href === normalised },
  };
}

/** Whether some pattern allows a URL. */
export interface UrlAllowList {
  allows(url: URL): boolean;
}

/** An allow-list of `patterns`; throws ConfigError naming `field[i]` for one that does not parse. */
export function urlAllowList(patterns: readonly string[], field: string): UrlAllowList {
  const parsed = patterns.map((text, index) => {
    const result = parseUrlPattern(text);
    if (!result.ok) throw new ConfigError(`${field}[${index}]`, result.problem);
    return result.pattern;
  });
  return { allows: (url) => parsed.some((pattern) => pattern.matches(url)) };
}
