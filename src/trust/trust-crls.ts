/**
 * `trust.crls`: CRL files that give the validation process (SPEC §3) the status of certificates
 * whose issuer no responder serves, above all an offline root's CRL for the issuing CAs below it.
 * A normal two-tier PKI (offline root → issuing CA → leaves) then authenticates TLS clients and
 * request signers without Vouch serving the root as a responder.
 *
 * The CRLs are read, verified and reloaded by the CRL source that serves issuers (status/crl/crl-loader.ts:
 * signature by the issuer, thisUpdate not in the future, supported extensions, delta CRLs on their
 * base, a changed file re-read and the last good CRL kept when the new one fails). What differs is
 * what stale data means: an issuer's source answers tryLater past nextUpdate (guardStale), while for
 * the validation process a status nobody can vouch for now is unknown, which fails unless
 * `trust.unknownStatus` is pass. A permanent revocation stays revoked however old the CRL.
 */
import { readFile, rm } from "node:fs/promises";
import { isPromise, type Awaitable } from "../awaitable.ts";
import type { Clock } from "../clock.ts";
import { ConfigError, TryLaterError } from "../errors.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { CertId } from "../ocsp/types.ts";
import type { Logger } from "../observability/logger.ts";
import { crlIssuer } from "../status/crl/crl-load.ts";
import { crlDerOfFile } from "../status/crl/crl-pem.ts";
import { parseCrl } from "../status/crl/crl-parse.ts";
import { verifyCrlSignatureNow } from "../status/crl/crl-signature.ts";
import { openCrlSource, type CrlFetchOptions } from "../status/crl/crl-loader.ts";
import { fetchCrl } from "../status/crl/fetch/fetch-crl.ts";
import { UrlFeed } from "../status/crl/fetch/url-feed.ts";
import { isCrlUrl } from "../status/crl/crl-location.ts";
import { guardStale } from "../status/guard-stale.ts";
import type { OpenedSource, StatusAnswer, StatusSource } from "../status/status-source.ts";
import { distinguishedName } from "./distinguished-name.ts";
import type { RevocationIssuer } from "./revocation-lookup.ts";

/** The issuers the CRLs speak for, each with its source, and how to stop reloading them. */
export interface TrustCrls {
  readonly issuers: readonly RevocationIssuer[];
  close(): Promise<void>;
}

/**
 * Opens the CRLs in `files` (PEM or DER, full or delta; an entry may be a URL, fetched as `fetch` says). Each CRL's issuer is found among
 * `candidates` (the trust anchors and known certificates) by its issuer name, and must be the one
 * whose key verifies the CRL; files of one issuer share one source. Rejects with ConfigError naming
 * `field[i]` when a file cannot be read or parsed, when no candidate issued it, or when the source
 * refuses it (e.g. a future thisUpdate, an unsupported critical extension, only delta CRLs).
 */
export async function openTrustCrls(
  files: readonly string[],
  candidates: readonly Buffer[],
  clock: Clock,
  logger: Logger,
  field = "trust.crls",
  fetch?: CrlFetchOptions,
): Promise<TrustCrls> {
  const byIssuer = new Map<Buffer, { files: string[]; urls: string[]; first: number }>();
  for (const [index, entry] of files.entries()) {
    const url = isCrlUrl(entry);
    if (url && fetch === undefined) throw new ConfigError(`${field}[${index}]`, "a CRL URL needs trust.crlFetch (its stateFolder at least)");
    const issuer = url ? await issuerOfCrlUrl(entry, candidates, `${field}[${index}]`, fetch!) : await issuerOfCrlFile(entry, candidates, `${field}[${index}]`);
    if (issuer === undefined) {
      logger.info({ field: `${field}[${index}]`, url: entry }, "CRL URL not fetched (nothing is fetched offline) and no last good CRL of it kept yet; left out");
      continue;
    }
    const group = byIssuer.get(issuer) ?? { files: [], urls: [], first: index };
    (url ? group.urls : group.files).push(entry);
    byIssuer.set(issuer, group);
  }
  const issuers: RevocationIssuer[] = [];
  const opened: OpenedSource[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(opened.map((source) => source.close()));
  };
  try {
    for (const [certificate, group] of byIssuer) {
      const name = distinguishedName(certificateFields(certificate).subjectDer);
      let source: OpenedSource;
      try {
        source = await openCrlSource({ files: group.files, urls: group.urls, fetch, issuer: certificate, clock, logger: logger.child({ trustCrlIssuer: name }) });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new ConfigError(`${field}[${group.first}]`, error.message, { cause: error });
      }
      opened.push(source);
      issuers.push({ certificate, source: staleAsUnknown(guardStale(source, clock), clock) });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { issuers, close };
}

/**
 * The issuer of the CRL at `url`: of the state folder's last good CRL for it when there is one
 * (the site may be down now), else of the CRL fetched once; `undefined` when there is none kept and
 * `fetch.offline` forbids fetching (`vouch check`: it touches neither the network nor the state
 * folder). Rejects with ConfigError(field) when neither is to be had, or as issuerOfCrlFile.
 */
async function issuerOfCrlUrl(url: string, candidates: readonly Buffer[], field: string, fetch: CrlFetchOptions): Promise<Buffer | undefined> {
  const kept = UrlFeed.keptCrlFile(fetch.stateFolder, url);
  if (await readFile(kept).then(() => true, () => false)) return issuerOfCrlFile(kept, candidates, field, url);
  if (fetch.offline === true) return undefined;
  const part = `${kept.slice(0, -4)}.${process.pid}.first.part`;
  try {
    await fetchCrl(new URL(url), part, {}, fetch.limits);
    return await issuerOfCrlFile(part, candidates, field, url);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(field, `${url}: cannot be fetched (${error instanceof Error ? error.message : String(error)}), and the state folder has no CRL of it yet`, { cause: error });
  } finally {
    await rm(part, { force: true });
  }
}

/** The candidate whose subject is the CRL's issuer name and whose key verifies it. `shown`: how errors name the CRL (default the file). */
async function issuerOfCrlFile(file: string, candidates: readonly Buffer[], field: string, shown = file): Promise<Buffer> {
  let crl: ReturnType<typeof parseCrl>;
  try {
    crl = parseCrl(await crlDerOfFile(await readFile(file)));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file not found" : code !== undefined ? `cannot read (${code})` : `not a CRL Vouch can use: ${error instanceof Error ? error.message : String(error)}`;
    throw new ConfigError(field, `${shown}: ${why}`, { cause: error, file });
  }
  const named = candidates.filter((candidate) => certificateFields(candidate).subjectDer.equals(crl.issuerDer));
  const issuer = named.find((candidate) => {
    try {
      verifyCrlSignatureNow(crl, crlIssuer(candidate).publicKey);
      return true;
    } catch {
      return false;
    }
  });
  if (issuer !== undefined) return issuer;
  const name = distinguishedName(crl.issuerDer);
  throw new ConfigError(
    field,
    named.length === 0
      ? `${shown}: issued by "${name}", which is neither a trust anchor nor in trust.certificates`
      : `${shown}: its signature does not verify with the key of any certificate named "${name}"`,
    { file },
  );
}

/** A layer for the validation process: data too stale to vouch for a status (tryLater) is unknown. */
function staleAsUnknown(inner: StatusSource, clock: Clock): StatusSource {
  const unknown = (error: unknown): StatusAnswer => {
    if (!(error instanceof TryLaterError)) throw error;
    return { kind: "unknown", thisUpdate: new Date(clock.now()) };
  };
  return {
    status(id: CertId, signal: AbortSignal): Awaitable<StatusAnswer | undefined> {
      try {
        const answer = inner.status(id, signal);
        return isPromise(answer) ? answer.catch(unknown) : answer;
      } catch (error) {
        return unknown(error);
      }
    },
  };
}
