/**
 * One CRL list URL feeding an issuer's CRL loader (issue 16 item 3): the list (crl-list.ts) is
 * fetched on the source's schedule (conditionally, like a CRL) and kept in the state folder; each
 * listed CRL this issuer issued (listed-crl-issuer.ts: its issuer Name, read from its first octets)
 * becomes a feed of its own (url-feed.ts), fetched, checked, rollback-protected and kept exactly as
 * a configured URL's. A CA that joins the list is picked up at the list's next fetch. A CRL that
 * leaves the list stops being fetched, unless it would leave this issuer with none: a list emptied
 * by mistake must not take a CA's revocations away.
 */
import { createHash } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../../clock.ts";
import type { Logger } from "../../../observability/logger.ts";
import { MAX_LIST_BYTES, listedCrlUrls } from "./crl-list.ts";
import { fetchCrl } from "./fetch-crl.ts";
import { nextRegularFetch, type FetchSchedule } from "./fetch-schedule.ts";
import { FetchTimer } from "./fetch-timer.ts";
import type { FetchLimits, Validators } from "./fetch-types.ts";
import { listedCrlIssuer, type ListedCrlIssuers } from "./listed-crl-issuer.ts";
import { partFileFor } from "./part-file.ts";
import { UrlFeed, type FetchResult, type FetchState } from "./url-feed.ts";

export interface ListFeedOptions {
  readonly url: string;
  /** For logs: the list's place in the configuration (`lists[0]`). */
  readonly field: string;
  /** The issuer's subject Name (DER): listed CRLs naming it are this issuer's. */
  readonly issuerName: Buffer;
  /** URLs the source fetches anyway (its `urls`): not fed twice. */
  readonly configured: ReadonlySet<string>;
  /** A feed of a listed CRL; `refusedBefore`: see UrlFeedOptions. */
  readonly newFeed: (url: string, field: string, refusedBefore?: Validators) => UrlFeed;
  readonly stateFolder: string;
  readonly schedule: FetchSchedule;
  readonly limits: FetchLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Only the state folder's copies are read, of the list and of its CRLs; nothing is fetched (crl-loader.ts CrlFetchOptions). */
  readonly offline?: boolean | undefined;
  /** The issuer Names of listed CRLs already read, shared by the lists of a service (one map per feed without it). */
  readonly listedIssuers?: ListedCrlIssuers | undefined;
}

/** Listed CRLs whose issuer is read at once (a list of many CAs at start). */
const CONCURRENT_HEADS = 8;

export class ListFeed {
  readonly #options: ListFeedOptions;
  readonly #keptList: string;
  readonly #aborter = new AbortController();
  readonly #feeds = new Map<string, UrlFeed>();
  readonly #listedIssuers: ListedCrlIssuers;
  /**
   * Listed CRLs that name this issuer but failed its checks, with when: most likely another CA of the
   * same name's (a re-keyed CA), but perhaps this CA's own, caught mid-publication or damaged. Each is
   * looked at again once `maxInterval` has passed, so that a CRL fixed at the same URL is taken
   * without a reload, while another CA's costs one conditional request per interval (asked with
   * what the server said of the version refused: a 304 while it is unchanged), not a download per
   * list fetch. Kept while listed and not taken.
   */
  readonly #foreign = new Map<string, { readonly at: number; readonly validators: Validators | undefined }>();
  #validators: Validators = {};
  readonly #timer: FetchTimer;
  #state: { lastAttemptAt?: number; lastResult?: FetchResult; lastSuccessAt?: number } = {};

  constructor(options: ListFeedOptions) {
    this.#options = options;
    this.#timer = new FetchTimer(options.clock, options.schedule, this.#aborter.signal);
    this.#listedIssuers = options.listedIssuers ?? new Map();
    this.#keptList = join(options.stateFolder, `${createHash("sha256").update(options.url).digest("hex").slice(0, 32)}.list`);
  }

  /** The feeds of the listed CRLs this issuer issued. */
  get feeds(): readonly UrlFeed[] {
    return [...this.#feeds.values()];
  }

  get state(): FetchState {
    return { url: this.#options.url, lastAttemptAt: undefined, lastResult: undefined, lastSuccessAt: undefined, ...this.#state, crlNumber: undefined, thisUpdate: undefined, nextUpdate: undefined };
  }

  isDue(now: number): boolean {
    return this.#timer.isDue(now);
  }

  /**
   * Takes up the state folder's copy of the list (so that a restart while the site is down still
   * answers from the listed CRLs kept), then fetches it; starts the feeds of this issuer's CRLs.
   * Never rejects for the site or the list: both are logged, and retried on the schedule.
   */
  async start(): Promise<void> {
    const kept = await readKept(this.#keptList);
    if (kept !== undefined) {
      this.#validators = kept.validators;
      await this.#adopt(listedCrlUrls(kept.body, new URL(this.#options.url)));
    }
    if (this.#options.offline !== true) await this.fetch();
  }

  /** Calls `due` whenever the list, or one of its CRLs, is due. */
  watch(due: () => void): void {
    if (this.#options.offline === true) return;
    for (const feed of this.#feeds.values()) feed.watch(due);
    this.#timer.watch(due);
  }

  /** Fetches the list now; resolves whether a CRL feed it added brought a CRL. Never rejects (see `start`). */
  async fetch(): Promise<boolean> {
    const { url, field, limits, clock, logger, stateFolder } = this.#options;
    const now = clock.now();
    const part = partFileFor(this.#keptList);
    let result: FetchResult;
    let brought = false;
    try {
      const outcome = await fetchCrl(new URL(url), part, this.#validators, { ...limits, maxBytes: Math.min(limits.maxBytes, MAX_LIST_BYTES) }, this.#aborter.signal);
      const body = outcome.kind === "fetched" ? await readFile(part, "utf8") : ((await readKept(this.#keptList))?.body ?? "");
      // Even an unchanged list is looked at again: a listed CRL whose site failed last time is tried once more.
      brought = await this.#adopt(listedCrlUrls(body, new URL(url)));
      if (outcome.kind === "fetched") {
        this.#validators = outcome.validators;
        await rename(part, this.#keptList);
        await writeFile(`${this.#keptList}.json`, JSON.stringify({ url, validators: outcome.validators }));
      }
      result = outcome.kind === "fetched" ? "new" : "not-modified";
    } catch (error) {
      if (this.#aborter.signal.aborted) return false;
      logger.warn({ url, field, stateFolder, err: error instanceof Error ? error.message : String(error) }, "CRL list fetch failed; keeping the CRLs it listed");
      result = "failed";
    } finally {
      await rm(part, { force: true });
    }
    this.#record(now, result);
    return brought;
  }

  async close(): Promise<void> {
    this.#aborter.abort();
    this.#timer.stop();
    await Promise.all([...this.#feeds.values()].map((feed) => feed.close()));
  }

  /** Feeds this issuer's CRLs among `listed`, and no other; resolves whether a new feed brought a CRL. */
  async #adopt(listed: readonly string[]): Promise<boolean> {
    const { url: listUrl, issuerName, configured, stateFolder, limits, logger } = this.#options;
    const mine = new Set<string>();
    const now = this.#options.clock.now();
    for (const url of this.#foreign.keys()) if (!listed.includes(url)) this.#foreign.delete(url);
    const candidates = listed.filter((url) => !configured.has(url) && now - (this.#foreign.get(url)?.at ?? Number.NEGATIVE_INFINITY) >= this.#options.schedule.maxIntervalMs);
    for (let i = 0; i < candidates.length; i += CONCURRENT_HEADS) {
      await Promise.all(
        candidates.slice(i, i + CONCURRENT_HEADS).map(async (url) => {
          try {
            const issuer = await listedCrlIssuer(this.#listedIssuers, url, UrlFeed.keptCrlFile(stateFolder, url), limits, this.#aborter.signal, this.#options.offline === true);
            if (issuer?.equals(issuerName) === true) mine.add(url);
          } catch (error) {
            // Unknown this time: a CRL already fed stays so; another is looked at again at the next fetch.
            if (this.#feeds.has(url)) mine.add(url);
            if (!this.#aborter.signal.aborted) logger.warn({ list: listUrl, url, err: error instanceof Error ? error.message : String(error) }, "cannot tell which CA issued a listed CRL; looked at again at the list's next fetch");
          }
        }),
      );
    }
    if (mine.size === 0) {
      logger.warn({ list: listUrl }, this.#feeds.size === 0 ? "the CRL list holds no CRL of this issuer" : "the CRL list no longer holds a CRL of this issuer; keeping the ones it did");
      return false;
    }
    for (const [url, feed] of this.#feeds) {
      if (mine.has(url)) continue;
      this.#feeds.delete(url);
      logger.info({ list: listUrl, url }, "CRL no longer listed; no longer fetched");
      await feed.close();
    }
    let brought = false;
    for (const url of mine) {
      if (this.#feeds.has(url)) continue;
      const feed = this.#options.newFeed(url, `${this.#options.field}(${url})`, this.#foreign.get(url)?.validators);
      this.#feeds.set(url, feed);
      logger.info({ list: listUrl, url }, "CRL found in the CRL list");
      await feed.start();
      if (feed.crl === undefined && feed.state.lastResult === "refused") {
        // Its checks failed (crl-load.ts logged why): most likely another CA's CRL under the same name.
        this.#feeds.delete(url);
        this.#foreign.set(url, { at: this.#options.clock.now(), validators: feed.refused });
        logger.info({ list: listUrl, url, lookedAtAgainInMs: this.#options.schedule.maxIntervalMs }, "listed CRL names this issuer but fails its checks; not this issuer's");
        await feed.close();
        continue;
      }
      this.#foreign.delete(url);
      if (feed.crl !== undefined) brought = true;
      const due = this.#timer.due;
      if (due !== undefined) feed.watch(due);
    }
    return brought;
  }

  #record(now: number, result: FetchResult): void {
    const success = result !== "failed";
    this.#state = { ...this.#state, lastAttemptAt: now, lastResult: result, ...(success ? { lastSuccessAt: now } : {}) };
    this.#timer.settle(now, success ? nextRegularFetch(now, undefined, this.#options.schedule)! : undefined);
  }
}

/** The state folder's copy of a list and the validators it was fetched with; `undefined` when there is none. */
async function readKept(file: string): Promise<{ body: string; validators: Validators } | undefined> {
  let body: string;
  try {
    body = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(await readFile(`${file}.json`, "utf8")) as { validators?: Validators };
    return { body, validators: record.validators ?? {} };
  } catch {
    return { body, validators: {} };
  }
}
