/**
 * Which CA issued a CRL named by a CRL list (crl-list.ts), read from its first octets only, as a
 * folder's files are told apart (crl-folder.ts): from the state folder's copy when a feed kept one
 * (no network, so a restart while the site is down still knows), else by an HTTP GET asking for
 * the first 96 KiB (`Range`; a server that ignores it is cut off after them). The answers are shared
 * by every issuer of the process: with N CAs in a list, each CRL's head is read once, not N times.
 */
import { CRL_HEAD_OCTETS, crlFileHead, crlIssuerName } from "../crl-folder.ts";
import type { FetchLimits } from "./fetch-types.ts";
import { requestCrl } from "./http-fetch.ts";

/**
 * Issuer Names by CRL URL (`null`: not a CRL), read once for every issuer of a service that takes
 * CRLs from lists (source-supply.ts); a failed read is not kept, so it is tried again at the list's
 * next fetch.
 */
export type ListedCrlIssuers = Map<string, Promise<Buffer | null>>;

/**
 * The issuer Name (DER) of the CRL at `url`, `null` when what is there is no CRL. `kept` is where
 * the state folder would hold the last good CRL of that URL. Rejects when the URL cannot be read.
 * `offline`: from the kept copy only (`null` without one). `known`: the names already read.
 */
export function listedCrlIssuer(known: ListedCrlIssuers, url: string, kept: string, limits: FetchLimits, signal: AbortSignal, offline = false): Promise<Buffer | null> {
  if (offline) return keptHead(kept).then((head) => (head === undefined ? null : (crlIssuerName(head) ?? null)));
  let issuer = known.get(url);
  if (issuer === undefined) {
    issuer = readIssuer(url, kept, limits, signal);
    known.set(url, issuer);
    issuer.catch(() => known.delete(url));
  }
  return issuer;
}

async function readIssuer(url: string, kept: string, limits: FetchLimits, signal: AbortSignal): Promise<Buffer | null> {
  const local = await keptHead(kept);
  const fromKept = local === undefined ? undefined : crlIssuerName(local);
  if (fromKept !== undefined) return fromKept;
  return crlIssuerName(await httpHead(new URL(url), limits, AbortSignal.any([signal, AbortSignal.timeout(limits.timeoutMs)]))) ?? null;
}

/** The state folder's copy's first octets; `undefined` when it cannot be read (the CA's site is asked instead). */
async function keptHead(file: string): Promise<Buffer | undefined> {
  return crlFileHead(file).catch(() => undefined);
}

/** The first CRL_HEAD_OCTETS octets (fewer if the body is shorter) of `url`'s body; rejects on a status other than 200 or 206. */
async function httpHead(url: URL, limits: FetchLimits, signal: AbortSignal): Promise<Buffer> {
  const response = await requestCrl(url, { range: `bytes=0-${CRL_HEAD_OCTETS - 1}` }, limits, signal);
  const status = response.statusCode ?? 0;
  if (status !== 200 && status !== 206) {
    response.resume();
    throw new Error(`HTTP ${status}`);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= CRL_HEAD_OCTETS) break;
    }
  } finally {
    response.destroy();
  }
  return Buffer.concat(chunks).subarray(0, CRL_HEAD_OCTETS);
}
