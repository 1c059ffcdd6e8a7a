/**
 * What a CRL list URL holds (issue 16 item 3, docs/crl-sources.md "A list of many CAs' CRLs"): the
 * URLs of many CAs' CRLs, either one per line (a plain text file, `#` starting a comment), or the
 * links of a web server's directory index (nginx `autoindex`, Apache `Indexes`, `python -m
 * http.server`), so that an operator can point Vouch at the folder the CRLs are published in.
 * Relative entries are resolved against the list's own URL; only http and https entries are kept.
 */

/** The largest list accepted, in bytes: ~50 000 URLs, far more than any PKI has CAs. */
export const MAX_LIST_BYTES = 4 * 1024 * 1024;

/** The CRL URLs `body` names (a text list or an HTML directory index), absolute, without repeats, in the order given. */
export function listedCrlUrls(body: string, listUrl: URL): string[] {
  const entries = /^\s*</.test(body) ? indexLinks(body) : textLines(body);
  const urls = new Set<string>();
  for (const entry of entries) {
    let url: URL;
    try {
      url = new URL(entry, listUrl);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    url.hash = "";
    urls.add(url.href);
  }
  return [...urls];
}

function textLines(body: string): string[] {
  return body
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "");
}

/** The links of a directory index that may be files: not sort links (`?C=M`), anchors, parents or sub-folders. */
function indexLinks(html: string): string[] {
  const links: string[] = [];
  for (const match of html.matchAll(/<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const href = decodeEntities(match[1] ?? match[2] ?? match[3] ?? "");
    if (href === "" || href.startsWith("?") || href.startsWith("#") || href.endsWith("/")) continue;
    links.push(href);
  }
  return links;
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
}
