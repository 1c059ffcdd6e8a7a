/**
 * What `vouch check` says of the CRLs a configuration fetches: check builds everything as serve
 * would but fetches nothing (no network, no writes to the state folders: it may run beside the
 * serve it checks), so it tells which URLs serve will fetch and for how many of them a state folder
 * already holds a last good CRL, which is what answers at start while a CA's site is down.
 */
import { access } from "node:fs/promises";
import type { Config } from "../config/schema.ts";
import { isCrlUrl } from "../status/crl/crl-location.ts";
import { UrlFeed } from "../status/crl/fetch/url-feed.ts";

/** The line to print, or `undefined` when the configuration fetches no CRL. */
export async function crlFetchSummary(config: Config): Promise<string | undefined> {
  const urls: { url: string; stateFolder: string }[] = [];
  let lists = 0;
  for (const responder of config.responders) {
    for (const issuer of responder.issuers) {
      for (const source of issuer.sources) {
        if (source.type !== "crl" || source.fetch === undefined) continue;
        for (const url of source.urls) urls.push({ url, stateFolder: source.fetch.stateFolder });
        lists += source.lists.length;
      }
    }
  }
  const trust = config.trust;
  if (trust?.crlFetch !== undefined) for (const url of trust.crls.filter(isCrlUrl)) urls.push({ url, stateFolder: trust.crlFetch.stateFolder });
  if (urls.length + lists === 0) return undefined;
  const kept = await Promise.all(urls.map(({ url, stateFolder }) => access(UrlFeed.keptCrlFile(stateFolder, url)).then(() => 1, () => 0)));
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const named = [...(urls.length > 0 ? [count(urls.length, "CRL URL")] : []), ...(lists > 0 ? [count(lists, "CRL list")] : [])].join(" and ");
  const held = urls.length === 0 ? "" : `; the state folder holds a last good CRL for ${kept.reduce((a, b) => a + b, 0)} of the ${count(urls.length, "URL")}`;
  return `CRLs: serve fetches ${named} (check fetched none${held})`;
}
