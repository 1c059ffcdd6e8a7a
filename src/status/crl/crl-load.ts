/**
 * Loads one CRL file the way SPEC §2 orders it (crl-read.ts: parse, extensions, issuer, thisUpdate,
 * signature, then entries), on two loading threads of their own (crl-jobs.ts) that each build the
 * table of half the entries; a small file (READ_HERE_BYTES) on the serving thread. Measured with 1M entries (bench/source-ready.ts): on the serving thread, in
 * slices, the load took ~1.2 s and left the walk's garbage in the serving process's heap until a
 * later GC; on its own threads it runs in one go, and that memory goes with the threads.
 */
import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { MessageChannel } from "node:worker_threads";
import { ConfigError } from "../../errors.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { loadingThread } from "../loading-thread.ts";
import { readCheckedCrl, type CheckedCrl, type CrlIssuer } from "./crl-read.ts";
import type { CrlBytesSource, CrlShareDone } from "./crl-jobs.ts";
import { FetchError, type FetchLimits, type Validators } from "./fetch/fetch-types.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import { joinedTable } from "../table/joined-table.ts";
import type { SerialTable } from "../table/serial-table.ts";
import { serialTableFromParts, type SerialTableParts } from "../table/serial-table.ts";

export type { CrlIssuer } from "./crl-read.ts";

/**
 * The issuer of `issuerDer` for CRL checks. Throws ConfigError(field) when it is not a certificate.
 */
export function crlIssuer(issuerDer: Buffer, field = "issuer"): CrlIssuer {
  try {
    return { subjectDer: certificateFields(issuerDer).subjectDer, publicKey: new X509Certificate(issuerDer).publicKey };
  } catch (error) {
    throw new ConfigError(field, `not a DER certificate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** A verified CRL, reduced to what answers need (the file's bytes are not kept). */
export interface LoadedCrl {
  readonly file: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly crlNumber: bigint | undefined;
  /** Set only on a delta CRL: the deltaCRLIndicator's BaseCRLNumber. */
  readonly baseCrlNumber: bigint | undefined;
  /** Where its Freshest CRL extension says the delta CRLs are (fetched when the source fetches). */
  readonly freshestCrl: readonly string[];
  readonly entries: SerialTable;
  /** Each loading thread's share of `entries` (a supervisor hands them to its worker threads: preloads.ts). */
  readonly shares: readonly SerialTableParts[];
}

export interface CrlLoadOptions {
  /**
   * The loading threads' niceness: RELOAD_NICENESS for a CRL that replaces one already answering,
   * so that its parse takes spare CPU, not a core from answering (a swap under load on 2 cores);
   * none (full speed) for the first, which answers wait for.
   */
  readonly niceness?: number | undefined;
}

/** Threads that share a load: each walks the whole CRL and builds the table of its share of the entries. */
const SHARES = 2;

/**
 * Reads, checks and indexes the CRL in `file` (PEM or DER). Rejects with
 * ConfigError(field, problem, { file }) when the file cannot be read or parsed, has an unsupported
 * critical extension or entry extension, is not issued by `issuer` (its issuer Name is compared
 * byte for byte with the certificate's subject), does not verify, has thisUpdate after `now`,
 * or is a delta CRL without a cRLNumber; and when `signal` aborts first (the loading threads are
 * stopped).
 */
export async function loadCrlFile(file: string, field: string, issuer: CrlIssuer, now: number, signal?: AbortSignal, options: CrlLoadOptions = {}): Promise<LoadedCrl> {
  const fail = failing(field, file);
  if (signal?.aborted === true) fail("reading entries was cancelled");
  if (await isSmall(file)) return loadHere(file, issuer, now, fail, signal);
  const done = await loadOnThreads({ kind: "file", file }, issuer, now, fail, signal, options.niceness);
  return done === "unchanged" ? fail("a loading thread answered unchanged without being asked to compare") : loadedCrl(file, checkedShares(done));
}

/** A CRL fetched and loaded on the loading threads (loadCrlFromUrl), with what the fetch learnt; or that it is the CRL held. */
export type FetchedCrl =
  | { readonly kind: "loaded"; readonly crl: LoadedCrl; readonly sha256: string; readonly validators: Validators }
  | { readonly kind: "unchanged" };

/**
 * Fetches the CRL at the http(s) `url` on the loading threads, into shared memory, and loads it
 * there as `loadCrlFile` loads a file (the same checks, in the same order); its bytes are written
 * to `part` (and synced) meanwhile, for the caller to rename into place once it took the CRL.
 * Resolves `unchanged` when the bytes hash to `unlessSha256` (nothing parsed). Rejects with a
 * FetchError when the fetch brings no CRL (see httpFetchIntoMemory), with ConfigError(field,
 * problem, { file: url }) when the CRL fails a check or `signal` aborts. `part` may be left
 * behind on failure: the caller removes it.
 */
export async function loadCrlFromUrl(
  url: string,
  part: string,
  field: string,
  issuer: CrlIssuer,
  now: number,
  signal: AbortSignal | undefined,
  options: CrlLoadOptions & { readonly limits: FetchLimits; readonly unlessSha256?: string | undefined },
): Promise<FetchedCrl> {
  const fail = failing(field, url);
  if (signal?.aborted === true) fail("reading entries was cancelled");
  const done = await loadOnThreads({ kind: "url", url, limits: options.limits, part, unlessSha256: options.unlessSha256 }, issuer, now, fail, signal, options.niceness);
  if (done === "unchanged") return { kind: "unchanged" };
  const [fetched, read] = done;
  if (fetched?.kind !== "fetched" || read?.kind !== "checked") return fail("a loading thread answered out of its part");
  return { kind: "loaded", crl: loadedCrl(url, [read.crl]), sha256: fetched.sha256, validators: fetched.validators };
}

function failing(field: string, file: string): (message: string, cause?: unknown) => never {
  return (message, cause) => {
    throw new ConfigError(field, message, { file, cause });
  };
}

function checkedShares(done: readonly CrlShareDone[]): CheckedCrl[] {
  return done.map((share) => {
    if (share.kind !== "checked") throw new Error(`a share of a CRL file answered ${share.kind}`);
    return share.crl;
  });
}

/**
 * Runs the shares of one CRL on loading threads of their own (crl-jobs.ts). Resolves every share's
 * answer, or `unchanged` as soon as a share finds the bytes are the CRL held (the other is stopped).
 * Share 0 got the bytes and verified the signature (and, for a file, checked every entry): its fault
 * is the one reported (the other, waiting for its bytes or not, is stopped). A FetchError is passed
 * on as it is; any other fault goes through `fail`.
 */
async function loadOnThreads(
  source: CrlBytesSource,
  issuer: CrlIssuer,
  now: number,
  fail: (message: string, cause?: unknown) => never,
  signal: AbortSignal | undefined,
  niceness: number | undefined,
): Promise<CrlShareDone[] | "unchanged"> {
  // The first share's thread gets the bytes and passes them on over this channel.
  const { port1, port2 } = new MessageChannel();
  const threads = [loadingThread({ niceness }), loadingThread({ niceness })];
  const stop = (): Promise<unknown> => Promise.all(threads.map((thread) => thread.close()));
  let aborted = false;
  const abort = (): void => {
    aborted = true;
    void stop();
  };
  signal?.addEventListener("abort", abort, { once: true });
  try {
    const pending = [port1, port2].map((peer, index) =>
      threads[index]!.run("crl.share", { source, issuer, now, share: { index, of: SHARES }, peer }, [peer]),
    );
    // Handled from the start: a thread ending early (stopped after another's fault) is no unhandled rejection.
    for (const share of pending) share.catch(() => {});
    const never = new Promise<never>(() => {});
    const unchanged = Promise.race(pending.map((pend) => pend.then((share) => (share.kind === "unchanged" ? ("unchanged" as const) : never), () => never)));
    const all = (async () => {
      const done: CrlShareDone[] = [];
      for (const share of pending) done.push(await share);
      return done;
    })();
    try {
      const done = await Promise.race([unchanged, all]);
      // Both settled already: `all` may win the race with a share's `unchanged` in it.
      return done !== "unchanged" && done.some((share) => share.kind === "unchanged") ? "unchanged" : done;
    } catch (error) {
      if (aborted) return fail("reading entries was cancelled");
      if (error instanceof FetchError) throw error;
      return fail((error as Error).message);
    }
  } finally {
    signal?.removeEventListener("abort", abort);
    await stop();
  }
}

/**
 * CRL files up to this size (~4,000 entries) are read on the serving thread, in a few ms: two
 * loading threads started for them took 0.5-1.1 s under load (11 entries, load average 14; the
 * parse itself 1-4 ms), which was most of the time a revocation took to reach answers from a CRL
 * (bench/propagation.ts). Their garbage is a few hundred KB.
 */
export const READ_HERE_BYTES = 128 * 1024;

async function isSmall(file: string): Promise<boolean> {
  try {
    return (await stat(file)).size <= READ_HERE_BYTES;
  } catch {
    // The loading thread's read reports the problem.
    return false;
  }
}

/** A small CRL, read, checked and indexed on this thread, in one share. */
async function loadHere(file: string, issuer: CrlIssuer, now: number, fail: (message: string, cause?: unknown) => never, signal: AbortSignal | undefined): Promise<LoadedCrl> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file, { signal });
  } catch (error) {
    if (signal?.aborted === true) return fail("reading entries was cancelled");
    return fail(`cannot read: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  let crl: CheckedCrl;
  try {
    const der = await crlDerOfFile(bytes);
    if (signal?.aborted === true) return fail("reading entries was cancelled");
    crl = readCheckedCrl(der, issuer, now);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return fail(error instanceof Error ? error.message : String(error), error);
  }
  return loadedCrl(file, [crl]);
}

/** The loaded CRL whose entries come in `shares` (one per loading thread, or one read here), all checked alike. */
function loadedCrl(file: string, shares: readonly CheckedCrl[]): LoadedCrl {
  const crl = shares[0]!;
  return {
    file,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    crlNumber: crl.crlNumber,
    baseCrlNumber: crl.baseCrlNumber,
    freshestCrl: crl.freshestCrl,
    entries: joinedTable(shares.map((share) => serialTableFromParts(share.entries))),
    shares: shares.map((share) => share.entries),
  };
}

/** The CRLs answers come from: a complete CRL and, when one applies, a delta on top of it. */
export interface CrlView {
  readonly full: LoadedCrl;
  readonly delta: LoadedCrl | undefined;
}

/**
 * Picks the view from loaded CRLs: the complete CRL with the highest cRLNumber (the latest
 * thisUpdate among CRLs without one), and the delta with the highest cRLNumber that applies to it
 * (RFC 5280 §5.2.4: BaseCRLNumber ≤ the complete CRL's number < the delta's number).
 * Returns `undefined` when no complete CRL is loaded.
 */
export function selectCrlView(loaded: Iterable<LoadedCrl>): CrlView | undefined {
  let full: LoadedCrl | undefined;
  const deltas: LoadedCrl[] = [];
  for (const crl of loaded) {
    if (crl.baseCrlNumber !== undefined) {
      deltas.push(crl);
    } else if (full === undefined || newer(crl, full)) {
      full = crl;
    }
  }
  if (full === undefined) return undefined;
  let delta: LoadedCrl | undefined;
  const fullNumber = full.crlNumber;
  if (fullNumber !== undefined) {
    for (const candidate of deltas) {
      const base = candidate.baseCrlNumber ?? 0n;
      const number = candidate.crlNumber ?? 0n;
      if (base <= fullNumber && fullNumber < number && (delta === undefined || number > (delta.crlNumber ?? 0n))) delta = candidate;
    }
  }
  return { full, delta };
}

function newer(a: LoadedCrl, b: LoadedCrl): boolean {
  if (a.crlNumber !== undefined && b.crlNumber !== undefined && a.crlNumber !== b.crlNumber) return a.crlNumber > b.crlNumber;
  return a.thisUpdate > b.thisUpdate;
}
