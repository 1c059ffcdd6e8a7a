/**
 * One CRL URL feeding the CRL loader (crl-loader.ts): it fetches on its schedule (fetch-schedule.ts)
 * into the state folder, checks the CRL as a file is checked (crl-load.ts, on loading threads) and
 * against rollback (rollback.ts), and only then keeps it, in memory and as the folder's last good
 * CRL for that URL, which is what answers come from at the next start while the CA's site is down.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../../../errors.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { Clock } from "../../../clock.ts";
import { loadCrlFile, loadCrlFromUrl, READ_HERE_BYTES, type CrlIssuer, type LoadedCrl } from "../crl-load.ts";
import { fetchCrl } from "./fetch-crl.ts";
import { FetchError, type FetchLimits, type FetchOutcome, type Validators } from "./fetch-types.ts";
import { httpFetch, type LargeAnswer } from "./http-fetch.ts";
import { nextRegularFetch, type FetchSchedule } from "./fetch-schedule.ts";
import { FetchTimer } from "./fetch-timer.ts";
import { rollbackProblem } from "./rollback.ts";
import { RELOAD_NICENESS } from "../../source-supply.ts";
import { partFileFor } from "./part-file.ts";

/** How the last fetch of a URL ended, as metrics and logs name it. */
export type FetchResult = "new" | "not-modified" | "unchanged" | "failed" | "refused" | "rolled-back";

/** What a URL's fetches report (metrics, readiness). Times in ms since the epoch. */
export interface FetchState {
  readonly url: string;
  readonly lastAttemptAt: number | undefined;
  readonly lastResult: FetchResult | undefined;
  readonly lastSuccessAt: number | undefined;
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: number | undefined;
  readonly nextUpdate: number | undefined;
}

export interface UrlFeedOptions {
  readonly url: string;
  /** For errors and logs: the URL's place in the configuration (`urls[1]`). */
  readonly field: string;
  readonly issuer: CrlIssuer;
  /** Folder where the last good CRL of each URL is kept. */
  readonly stateFolder: string;
  readonly schedule: FetchSchedule;
  readonly limits: FetchLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Only the state folder's CRL is taken up; nothing is fetched (crl-loader.ts CrlFetchOptions). */
  readonly offline?: boolean | undefined;
  /**
   * What the server said of the version of an answer this issuer refused before (UrlFeed.refused):
   * while nothing is held, the URL is asked for conditionally on it, and a 304 is refused again
   * without a download (a same-name CA's CRL in a list, looked at again: list-feed.ts).
   */
  readonly refusedBefore?: Validators | undefined;
}

/** The state folder's record beside a URL's CRL: what HTTP needs to ask for a newer one only. */
interface Persisted {
  readonly url: string;
  readonly sha256: string;
  readonly validators: Validators;
}

/** What one fetch brought: a CRL that passed its checks (not yet rollback), or why none is to be taken. */
type Fetched =
  | { readonly kind: "not-modified" | "unchanged" }
  /** `validators`: what the refused answer's head said of its version, if anything. */
  | { readonly kind: "refused"; readonly validators?: Validators | undefined }
  | { readonly kind: "checked"; readonly crl: LoadedCrl; readonly sha256: string; readonly validators: Validators };

/** A fetched CRL held, with what the rollback check and conditional requests need. */
interface Held {
  readonly crl: LoadedCrl;
  readonly sha256: string;
  readonly validators: Validators;
}

export class UrlFeed {
  readonly #options: UrlFeedOptions;
  readonly #crlFile: string;
  readonly #recordFile: string;
  readonly #aborter = new AbortController();
  #held: Held | undefined;
  readonly #timer: FetchTimer;
  #state: { lastAttemptAt?: number; lastResult?: FetchResult; lastSuccessAt?: number } = {};
  /** What the server said of the version of the answer the last fetch refused (set only when it refused one). */
  #refused: Validators | undefined;

  constructor(options: UrlFeedOptions) {
    this.#options = options;
    this.#timer = new FetchTimer(options.clock, options.schedule, this.#aborter.signal);
    this.#crlFile = UrlFeed.keptCrlFile(options.stateFolder, options.url);
    this.#recordFile = `${this.#crlFile.slice(0, -4)}.json`;
  }

  /** Where the state folder keeps the last good CRL of `url`. */
  static keptCrlFile(stateFolder: string, url: string): string {
    return join(stateFolder, `${createHash("sha256").update(url).digest("hex").slice(0, 32)}.crl`);
  }

  /** The CRL held (its `file` is the URL), if any. */
  get crl(): LoadedCrl | undefined {
    return this.#held?.crl;
  }

  get state(): FetchState {
    const crl = this.#held?.crl;
    return { url: this.#options.url, ...emptyState, ...this.#state, crlNumber: crl?.crlNumber, thisUpdate: crl?.thisUpdate, nextUpdate: crl?.nextUpdate };
  }

  /**
   * What the server said of the version of the answer the last fetch refused (a CRL that failed
   * the checks), if it refused one and the server said something: for a later feed of the URL (refusedBefore).
   */
  get refused(): Validators | undefined {
    return this.#refused;
  }

  /** Whether a fetch is due at `now`. */
  isDue(now: number): boolean {
    return this.#timer.isDue(now);
  }

  /**
   * Takes up the state folder's last good CRL for this URL (checked again: the issuer or the file
   * may have changed), then fetches once. Never rejects for the CA's site or a bad CRL: both are
   * logged, and the feed holds what it could.
   */
  async start(): Promise<void> {
    await this.#takeUpPersisted();
    if (this.#options.offline !== true) await this.fetch();
  }

  /** Calls `due` whenever a fetch becomes due. */
  watch(due: () => void): void {
    if (this.#options.offline === true) return;
    this.#timer.watch(due);
  }

  /** Fetches now. Resolves whether the CRL held changed; never rejects (see `start`). */
  async fetch(): Promise<boolean> {
    const { url, field, clock, logger } = this.#options;
    const now = clock.now();
    const part = partFileFor(this.#crlFile.slice(0, -4));
    let result: FetchResult;
    let changed = false;
    this.#refused = undefined;
    try {
      const fetched = await this.#fetchChecked(part, now);
      if (fetched.kind !== "checked") {
        result = fetched.kind;
        if (fetched.kind === "refused") this.#refused = fetched.validators;
      } else {
        const { crl, sha256, validators } = fetched;
        const problem = rollbackProblem(this.#held === undefined ? undefined : { ...this.#held.crl, sha256: this.#held.sha256 }, { ...crl, sha256 });
        if (problem !== undefined) {
          logger.warn({ url, problem }, "fetched CRL refused (rollback); keeping the CRL held");
          result = "rolled-back";
        } else {
          await this.#keep(part, { crl: { ...crl, file: url }, sha256, validators });
          result = "new";
          changed = true;
        }
      }
    } catch (error) {
      if (this.#aborter.signal.aborted) return false;
      logger.warn({ url, field, err: error instanceof Error ? error.message : String(error) }, "CRL fetch failed; keeping the CRL held");
      result = "failed";
    } finally {
      await rm(part, { force: true });
    }
    this.#record(now, result);
    return changed;
  }

  async close(): Promise<void> {
    this.#aborter.abort();
    this.#timer.stop();
  }

  /**
   * Fetches the URL and checks what came (not against rollback: `fetch` does). Over http(s), the
   * serving thread asks (conditionally) and reads a small answer (crl-load.ts READ_HERE_BYTES, or one
   * of no declared size) into the part file itself; a bigger one it drops after its head, and the
   * loading threads fetch and parse it (loadCrlFromUrl), so that this thread never handles its bytes.
   * Rejects with a FetchError when no CRL came.
   */
  async #fetchChecked(part: string, now: number): Promise<Fetched> {
    const { url, field, issuer, limits, logger } = this.#options;
    const held = this.#held;
    const signal = this.#aborter.signal;
    const location = new URL(url);
    const refusedBefore = held === undefined ? this.#options.refusedBefore : undefined;
    const asked = held?.validators ?? refusedBefore ?? {};
    const outcome: FetchOutcome | LargeAnswer =
      location.protocol === "http:" || location.protocol === "https:" ? await httpFetch(location, part, asked, limits, signal, READ_HERE_BYTES) : await fetchCrl(location, part, asked, limits, signal);
    if (outcome.kind === "not-modified") {
      if (held !== undefined || refusedBefore === undefined) return outcome;
      logger.info({ url }, "CRL unchanged since it was refused; refused again");
      return { kind: "refused", validators: refusedBefore };
    }
    if (outcome.kind === "large") {
      try {
        // A CRL fetched while one is held replaces it under load: its parse must not take a core from answering.
        const loaded = await loadCrlFromUrl(url, part, field, issuer, now, signal, { limits, niceness: held === undefined ? undefined : RELOAD_NICENESS, unlessSha256: held?.sha256 });
        return loaded.kind === "unchanged" ? loaded : { kind: "checked", crl: loaded.crl, sha256: loaded.sha256, validators: loaded.validators };
      } catch (error) {
        if (error instanceof FetchError || signal.aborted) throw error;
        logger.warn({ url, problem: error instanceof ConfigError ? error.message : String(error) }, "fetched CRL refused; keeping the CRL held");
        // The head's validators: the loading thread's own GET normally brings the same version.
        return { kind: "refused", validators: outcome.validators };
      }
    }
    if (outcome.sha256 === held?.sha256) return { kind: "unchanged" };
    const crl = await this.#check(part, now);
    return crl === undefined ? { kind: "refused", validators: outcome.validators } : { kind: "checked", crl, sha256: outcome.sha256, validators: outcome.validators };
  }

  /** The fetched CRL checked as a file is, or `undefined` (logged) when it fails a check. */
  async #check(part: string, now: number): Promise<LoadedCrl | undefined> {
    const { url, field, issuer, logger } = this.#options;
    try {
      // A CRL fetched while one is held replaces it under load: its parse must not take a core from answering.
      return await loadCrlFile(part, field, issuer, now, this.#aborter.signal, { niceness: this.#held === undefined ? undefined : RELOAD_NICENESS });
    } catch (error) {
      if (this.#aborter.signal.aborted) throw error;
      logger.warn({ url, problem: error instanceof ConfigError ? error.message : String(error) }, "fetched CRL refused; keeping the CRL held");
      return undefined;
    }
  }

  async #keep(part: string, held: Held): Promise<void> {
    // Synced before it is renamed into place: a crash must not leave a torn file as the last good
    // CRL (one the loading threads fetched is synced already, and this costs nothing more).
    const handle = await open(part, "r+");
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    // The CRL first, then its record: a record whose sha256 is not the file's is ignored at start.
    await rename(part, this.#crlFile);
    const persisted: Persisted = { url: this.#options.url, sha256: held.sha256, validators: held.validators };
    await writeFile(`${this.#recordFile}.tmp`, JSON.stringify(persisted));
    await rename(`${this.#recordFile}.tmp`, this.#recordFile);
    this.#held = held;
  }

  async #takeUpPersisted(): Promise<void> {
    const { url, field, issuer, clock, logger } = this.#options;
    let sha256: string;
    try {
      sha256 = await fileSha256(this.#crlFile);
    } catch {
      return;
    }
    const record = await readRecord(this.#recordFile);
    try {
      const crl = await loadCrlFile(this.#crlFile, field, issuer, clock.now(), this.#aborter.signal);
      const validators = record?.url === url && record.sha256 === sha256 ? record.validators : {};
      this.#held = { crl: { ...crl, file: url }, sha256, validators };
      logger.info({ url, crlNumber: crl.crlNumber?.toString(), nextUpdate: crl.nextUpdate === undefined ? undefined : new Date(crl.nextUpdate).toISOString() }, "last good CRL taken up from the state folder");
    } catch (error) {
      if (this.#aborter.signal.aborted) return;
      logger.warn({ url, file: this.#crlFile, problem: error instanceof ConfigError ? error.message : String(error) }, "the state folder's CRL for this URL is not usable; ignored");
    }
  }

  #record(now: number, result: FetchResult): void {
    const success = result === "new" || result === "not-modified" || result === "unchanged";
    this.#state = { ...this.#state, lastAttemptAt: now, lastResult: result, ...(success ? { lastSuccessAt: now } : {}) };
    this.#timer.settle(now, success ? nextRegularFetch(now, this.#held?.crl.nextUpdate, this.#options.schedule) : undefined);
  }
}

const emptyState = { lastAttemptAt: undefined, lastResult: undefined, lastSuccessAt: undefined };

async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function readRecord(file: string): Promise<Persisted | undefined> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as Partial<Persisted>;
    if (typeof value.url !== "string" || typeof value.sha256 !== "string" || typeof value.validators !== "object" || value.validators === null) return undefined;
    return value as Persisted;
  } catch {
    return undefined;
  }
}
