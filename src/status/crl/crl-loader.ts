/**
 * The table loader for CRLs from files and URLs: complete CRLs and delta CRLs from one issuer. A listed serial is
 * revoked, any other is good (a CRL cannot tell issued from not issued); answers carry the
 * thisUpdate/nextUpdate of the CRL data they came from (the delta's, when one applies). Staleness is
 * guardStale's business; this loader only keeps its last good CRLs current. Each file is loaded and
 * verified on two loading threads (crl-load.ts) and reloaded on its own when it changes; a file that
 * fails any check is logged and its previous CRL stays in the view. Each URL is a feed of its own
 * (fetch/url-feed.ts): fetched on a schedule, checked the same way and against rollback, and kept in
 * a state folder; the view is chosen among the files' and the URLs' CRLs alike.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { changedAt, fileSignatures, pollInterval, watchFileChanges, type FileChanges } from "../files/file-changes.ts";
import { preloadedCrl } from "../preloads.ts";
import { RELOAD_NICENESS, type PreloadedTables } from "../source-supply.ts";
import { requireClock, requireDer, requireFile, requireLogger } from "../source-options.ts";
import type { DataKind, TableLoader, TableSnapshot } from "../table/table-loader.ts";
import { overlaidTable } from "../table/table-overlay.ts";
import { openTableSource, type TableSource } from "../table/table-source.ts";
import type { CrlView, LoadedCrl } from "./crl-load.ts";
import { crlIssuer, loadCrlFile, selectCrlView } from "./crl-load.ts";
import { FolderFiles } from "./crl-folder-files.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import type { FetchLimits, Validators } from "./fetch/fetch-types.ts";
import type { FetchSchedule } from "./fetch/fetch-schedule.ts";
import { CRL_URL_PROTOCOLS } from "./fetch/fetch-crl.ts";
import { UrlFeed, type FetchState } from "./fetch/url-feed.ts";
import { ListFeed } from "./fetch/list-feed.ts";
import type { ListedCrlIssuers } from "./fetch/listed-crl-issuer.ts";

/** How a source's URLs are fetched. */
export interface CrlFetchOptions {
  /** Folder where the last good CRL of each URL is kept (created by the operator, writable). */
  readonly stateFolder: string;
  readonly schedule: FetchSchedule;
  readonly limits: FetchLimits;
  /**
   * Nothing is fetched (`vouch check`): each URL and list answers from the state folder's last good
   * copy only, if any, so that checking a configuration needs no network and changes no state.
   */
  readonly offline?: boolean | undefined;
  /** The issuer Names of CRLs named by lists, read once for all the issuers of a service (source-supply.ts). */
  readonly listedIssuers?: ListedCrlIssuers | undefined;
}

/** A CRL source: a table source that also tells how each of its URLs' fetches went. */
export interface CrlSource extends TableSource {
  fetches(): readonly FetchState[];
}

export interface CrlSourceOptions {
  /** CRL files, PEM or DER; with `urls`, at least one complete CRL, plus any delta CRLs. */
  readonly files: readonly string[];
  /** Folder holding many CAs' CRLs: the files whose CRL this issuer issued join `files` (looked at again on each poll). */
  readonly folder?: string | undefined;
  /** URLs the CA publishes CRLs at (http, https, ldap, ldaps), fetched as `fetch` says. */
  readonly urls?: readonly string[] | undefined;
  /** URLs of lists of many CAs' CRLs (fetch/crl-list.ts): the listed CRLs this issuer issued are fetched as `urls` are. */
  readonly lists?: readonly string[] | undefined;
  readonly fetch?: CrlFetchOptions | undefined;
  /** DER of the CA certificate that issues (and signs) the CRLs. */
  readonly issuer: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Stat poll period, the safety net under fs.watch (default 1000, at least 10). */
  readonly pollIntervalMs?: number;
  /** Tables loaded before this source: a file's, verified against this issuer and unchanged since, is used instead of loading it again. */
  readonly tables?: PreloadedTables | undefined;
}

/**
 * Opens a CRL source. Resolves once every file has been loaded and verified, so the source answers
 * from its first call. Rejects with ConfigError when an option is invalid, when `issuer` is not a
 * certificate, when any file fails to load (field `files[i]`, file set), or when the files hold no
 * complete CRL.
 */
export async function openCrlSource(options: CrlSourceOptions): Promise<CrlSource> {
  const urls = options.urls ?? [];
  const listUrls = options.lists ?? [];
  if (!Array.isArray(options.files) || (options.files.length + urls.length + listUrls.length === 0 && options.folder === undefined)) throw new ConfigError("files", "must list at least one CRL file or URL");
  const issuerDer = requireDer(options.issuer, "issuer");
  const files = options.files.map((file, i) => requireFile(file, `files[${i}]`));
  const folder = options.folder === undefined ? undefined : await FolderFiles.open(options.folder, issuerDer);
  const clock = requireClock(options.clock);
  const logger = requireLogger(options.logger);
  const pollIntervalMs = pollInterval(options.pollIntervalMs);
  const issuer = crlIssuer(issuerDer);
  const feeds = urls.map((url, i) => urlFeed(url, `urls[${i}]`, issuer, options.fetch, clock, logger));
  const fetch = options.fetch;
  const newFeed = fetch === undefined ? undefined : (url: string, field: string, refusedBefore?: Validators) => new UrlFeed({ url, field, issuer, ...fetch, clock, logger, refusedBefore });
  const lists = listUrls.map((url, i) => listFeed(url, `lists[${i}]`, issuerDer, new Set(urls), newFeed, fetch, clock, logger));
  const loader = crlLoader({ files, folder, feeds, lists, newFeed, issuerDer, clock, logger, pollIntervalMs, tables: options.tables });
  const source = await openTableSource({ issuer: issuerDer, loader, clock, logger });
  return Object.assign(source, { fetches: () => loader.fetches() });
}

/** Whether a CRL may name `url` for a feed (Freshest CRL): a scheme Vouch fetches. */
function fetchable(url: string): boolean {
  try {
    return CRL_URL_PROTOCOLS.includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

function urlFeed(url: string, field: string, issuer: ReturnType<typeof crlIssuer>, fetch: CrlFetchOptions | undefined, clock: Clock, logger: Logger): UrlFeed {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(field, "must be a URL");
  }
  if (!CRL_URL_PROTOCOLS.includes(parsed.protocol)) throw new ConfigError(field, `must be a ${CRL_URL_PROTOCOLS.map((p) => p.slice(0, -1)).join(", ")} URL`);
  if (fetch === undefined) throw new ConfigError("fetch", "is required with urls (the state folder at least)");
  return new UrlFeed({ url, field, issuer, ...fetch, clock, logger });
}

function listFeed(url: string, field: string, issuerDer: Buffer, configured: ReadonlySet<string>, newFeed: ((url: string, field: string, refusedBefore?: Validators) => UrlFeed) | undefined, fetch: CrlFetchOptions | undefined, clock: Clock, logger: Logger): ListFeed {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(field, "must be a URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ConfigError(field, "must be an http or https URL");
  if (fetch === undefined || newFeed === undefined) throw new ConfigError("fetch", "is required with lists (the state folder at least)");
  return new ListFeed({ url, field, issuerName: certificateFields(issuerDer).subjectDer, configured, newFeed, ...fetch, clock, logger });
}

/** CRLs: data with dates of its own that lists only revocations; a reload happens only once a file changed. */
const CRL_DATA: DataKind = { name: "crl", dating: { kind: "published" }, listsIssued: false, failures: { kind: "per-version" } };

interface CrlLoaderOptions {
  readonly files: readonly string[];
  /** The issuer's files of a folder of many CAs' CRLs, as found at open, and the folder looked at again on each poll. */
  readonly folder: { readonly files: readonly string[]; readonly folder: FolderFiles } | undefined;
  readonly feeds: readonly UrlFeed[];
  /** CRL lists: each feeds the listed CRLs this issuer issued. */
  readonly lists: readonly ListFeed[];
  /** Makes the feed of a URL found in a CRL (Freshest CRL); absent when the source does not fetch. */
  readonly newFeed: ((url: string, field: string) => UrlFeed) | undefined;
  readonly issuerDer: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pollIntervalMs: number;
  readonly tables: PreloadedTables | undefined;
}

function crlLoader(options: CrlLoaderOptions): TableLoader & { fetches(): readonly FetchState[] } {
  const { feeds, lists, issuerDer, clock, logger } = options;
  /** The folder's files taken (see followFolder), and the configured files with them: what is loaded and watched. */
  let taken = [...(options.folder?.files ?? [])];
  let files = [...options.files, ...taken];
  /** Folder files that name this issuer but failed to load, by their stat signature then: tried again once it changes (a file still being written). */
  const failed = new Map<string, string>();
  const issuer = crlIssuer(issuerDer);
  const aborter = new AbortController();
  const signatures = new Map<string, string>();
  const loaded = new Map<string, LoadedCrl>();
  let changes: FileChanges | undefined;
  let allSignatures = "";
  /** Feeds of the delta CRLs the complete CRL's Freshest CRL extension names, by URL. */
  const deltas = new Map<string, UrlFeed>();
  let onDue: (() => void) | undefined;

  /** Loads `file`; `serving`: answers come from the source already, so the load runs at RELOAD_NICENESS (crl-load.ts). */
  const load = async (file: string, serving = false): Promise<void> => {
    const signature = await fileSignatures([file]);
    signatures.set(file, signature);
    const index = options.files.indexOf(file);
    const field = index < 0 ? "folder" : `files[${index}]`;
    loaded.set(file, preloadedCrl(options.tables, file, issuerDer, signature) ?? (await loadCrlFile(file, field, issuer, clock.now(), aborter.signal, { niceness: serving ? RELOAD_NICENESS : undefined })));
  };

  return {
    data: CRL_DATA,
    fetches: () => [...lists.map((list) => list.state), ...urlFeeds().map((feed) => feed.state)],
    async load() {
      allSignatures = await fileSignatures(files);
      try {
        await Promise.all(files.map((file) => load(file)));
      } catch (error) {
        // Stop the other files' entry walks: the source will never open.
        aborter.abort();
        throw error;
      }
      // A CA's site that is down, or a bad CRL from it, is logged by its feed and retried; it does not stop the start.
      await Promise.all([...feeds, ...lists].map((feed) => feed.start()));
      await followFreshest();
      const view = selectCrlView(held());
      if (view === undefined && feeds.length + lists.length > 0) {
        logger.warn({ urls: [...lists, ...feeds].map((feed) => feed.state.url) }, "no usable CRL yet; answers wait for a fetch to succeed");
        return undefined;
      }
      if (view === undefined) throw new ConfigError("files", "no complete CRL among the files (only delta CRLs)");
      return { snapshot: snapshotOf(view), announce: () => logView(logger, view, clock.now(), "CRL loaded") };
    },
    async watch(due) {
      if (files.length > 0) changes = watchFileChanges({ files, pollIntervalMs: options.pollIntervalMs, logger, loadedSignatures: allSignatures, onChange: due });
      onDue = due;
      for (const feed of [...feeds, ...deltas.values(), ...lists]) feed.watch(due);
    },
    async refresh() {
      const now = clock.now();
      const dueLists = lists.filter((list) => list.isDue(now));
      const listed = (await Promise.all(dueLists.map((list) => list.fetch()))).includes(true);
      const due = urlFeeds().filter((feed) => feed.isDue(now));
      let changed = (await Promise.all(due.map((feed) => feed.fetch()))).includes(true) || listed;
      let changedAtMs = now;
      if (await followFolder()) changed = true;
      const version = await changes?.check();
      if (version !== undefined) {
        for (const file of files) {
          const signature = await fileSignatures([file]);
          if (signature === signatures.get(file)) continue;
          try {
            await load(file, true);
          } catch (error) {
            if (aborter.signal.aborted) return { kind: "idle" };
            logger.warn({ file, err: error instanceof ConfigError ? error.message : String(error) }, "CRL not reloaded; keeping the last good CRL");
          }
        }
        changed = true;
        changedAtMs = await changedAt(files, version);
      }
      if (await followFreshest()) changed = true;
      if (!changed) return due.length + dueLists.length > 0 ? { kind: "same" } : { kind: "idle" };
      const view = selectCrlView(held());
      if (view === undefined) return { kind: "idle" };
      return { kind: "whole", snapshot: snapshotOf(view), changedAt: changedAtMs, announce: () => logView(logger, view, clock.now(), version === undefined ? "CRL fetched" : "CRL reloaded") };
    },
    async close() {
      aborter.abort();
      await Promise.all([...feeds, ...deltas.values(), ...lists].map((feed) => feed.close()));
      await changes?.close();
    },
  };

  /**
   * Takes up the files that joined the folder since the last look and that this issuer issued
   * (loaded, hence verified, on the loading threads), and lets go of those that left it, unless
   * none would remain (a folder emptied by mistake must not take revocations away); then watches
   * the files taken. Resolves whether the files changed.
   */
  async function followFolder(): Promise<boolean> {
    const folder = options.folder?.folder;
    if (folder === undefined) return false;
    let named: string[] | undefined;
    try {
      named = await folder.changed();
    } catch (error) {
      logger.warn({ folder: folder.path, err: error instanceof Error ? error.message : String(error) }, "CRL folder cannot be read; keeping its CRLs");
      return false;
    }
    // A file no longer there is forgotten (a publisher's temporary file, renamed into place).
    if (named !== undefined) for (const file of failed.keys()) if (!named.includes(file)) failed.delete(file);
    const retried: string[] = [];
    for (const [file, signature] of failed) if ((await fileSignatures([file])) !== signature) retried.push(file);
    if (named === undefined && retried.length === 0) return false;
    const candidates = (named ?? taken).filter((file) => !options.files.includes(file));
    const added: string[] = [];
    for (const file of new Set([...candidates.filter((file) => !taken.includes(file) && !failed.has(file)), ...retried])) {
      try {
        await load(file, true);
        failed.delete(file);
        added.push(file);
        logger.info({ folder: folder.path, file }, "CRL file joined the folder; taken");
      } catch (error) {
        if (aborter.signal.aborted) return false;
        failed.set(file, signatures.get(file) ?? "");
        signatures.delete(file);
        logger.info({ folder: folder.path, file, problem: error instanceof ConfigError ? error.message : String(error) }, "file in the CRL folder names this issuer but is not usable; not taken");
      }
    }
    let next = [...taken.filter((file) => candidates.includes(file)), ...added];
    if (next.length === 0) {
      logger.warn({ folder: folder.path }, "the CRL folder no longer holds a CRL of this issuer; keeping the ones it did");
      next = taken;
    }
    for (const file of taken) {
      if (next.includes(file)) continue;
      loaded.delete(file);
      signatures.delete(file);
      logger.info({ folder: folder.path, file }, "CRL file left the folder; no longer used");
    }
    if (added.length === 0 && next.length === taken.length) return false;
    taken = next.sort();
    files = [...options.files, ...taken];
    await changes?.close();
    if (onDue !== undefined) changes = watchFileChanges({ files, pollIntervalMs: options.pollIntervalMs, logger, loadedSignatures: await fileSignatures(files), onChange: onDue });
    return true;
  }

  /**
   * Follows the Freshest CRL extension of the complete CRL in use (RFC 5280 §5.2.6): a feed for each
   * delta CRL URL it names that no configured URL already fetches, and none any more for a URL it no
   * longer names. Only a source that fetches (has `fetch`) follows it. Resolves whether a new feed
   * brought a CRL.
   */
  async function followFreshest(): Promise<boolean> {
    if (options.newFeed === undefined) return false;
    const full = selectCrlView(held())?.full;
    const configured = new Set([...feeds, ...lists.flatMap((list) => list.feeds)].map((feed) => feed.state.url));
    const named = new Set((full?.freshestCrl ?? []).filter((url) => fetchable(url) && !configured.has(url)));
    for (const [url, feed] of deltas) {
      if (named.has(url)) continue;
      deltas.delete(url);
      await feed.close();
    }
    let brought = false;
    for (const url of named) {
      if (deltas.has(url)) continue;
      const feed = options.newFeed(url, `freshestCRL(${url})`);
      deltas.set(url, feed);
      logger.info({ url }, "following the CRL's Freshest CRL extension to its delta CRLs");
      await feed.start();
      if (feed.crl !== undefined) brought = true;
      if (onDue !== undefined) feed.watch(onDue);
    }
    return brought;
  }

  function urlFeeds(): UrlFeed[] {
    return [...feeds, ...lists.flatMap((list) => list.feeds), ...deltas.values()];
  }

  /** Every CRL held: the files' (in their order), then the URLs'. */
  function* held(): Iterable<LoadedCrl> {
    for (const file of files) {
      const crl = loaded.get(file);
      if (crl !== undefined) yield crl;
    }
    for (const feed of urlFeeds()) if (feed.crl !== undefined) yield feed.crl;
  }
}

/** The table of a view (a delta's entries, even removeFromCRL, have the last word) and the dates its answers carry. */
function snapshotOf(view: CrlView): TableSnapshot {
  const dated = view.delta ?? view.full;
  const table = view.delta === undefined ? view.full.entries : overlaidTable(view.full.entries, view.delta.entries);
  return { table, thisUpdate: dated.thisUpdate, nextUpdate: dated.nextUpdate };
}

function logView(logger: Logger, view: CrlView, now: number, message: string): void {
  const source = view.delta ?? view.full;
  logger.info(
    {
      file: view.full.file,
      delta: view.delta?.file,
      entries: view.full.entries.size + (view.delta?.entries.size ?? 0),
      crlNumber: (source.crlNumber ?? "").toString(),
      nextUpdate: source.nextUpdate === undefined ? undefined : new Date(source.nextUpdate).toISOString(),
    },
    message,
  );
  if (source.nextUpdate !== undefined && source.nextUpdate <= now) {
    logger.warn({ file: source.file }, "CRL is past its nextUpdate; only permanent revocations will be answered");
  }
}
