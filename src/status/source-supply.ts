/**
 * What the revocation sources of a process are handed from outside, explicitly, from the command
 * through the composition root to each source: the thread their reloads run on, and tables loaded
 * before they were built. Nothing in status/ keeps either in module state.
 */
import { createHash } from "node:crypto";
import type { ListedCrlIssuers } from "./crl/fetch/listed-crl-issuer.ts";
import { loadingThread, type LoadingThread } from "./loading-thread.ts";
import type { SerialTableParts } from "./table/serial-table.ts";

/**
 * The niceness of reloads. Measured with a 1M-line index rewritten every second under wrk load on
 * 2 cores (bench/source-ready.ts): see README.md "Big revocation data" for p99 and reload time.
 */
export const RELOAD_NICENESS = 10;

/** A thread for the reloads of every source of a process, at RELOAD_NICENESS. */
export function reloadThread(): LoadingThread {
  return loadingThread({ niceness: RELOAD_NICENESS });
}

export interface SourceSupply {
  /**
   * One long-lived thread for the reloads of every source: a thread started per reload cost
   * ~0.13 s of CPU to boot (an isolate, Node, the parser's modules) before reading a byte, as much
   * as an index reload that parses only changed blocks, and a thread per source ~15 MB while idle.
   * At a lower priority than the serving thread, so that a reload takes spare CPU, not a core from answering.
   */
  readonly reloads: LoadingThread;
  /** Tables loaded before the sources (worker threads: by their supervisor, once for all of them). */
  readonly tables?: PreloadedTables | undefined;
  /** `vouch check`: CRL URLs are not fetched, their state folder copies are read (crl-loader.ts CrlFetchOptions.offline). */
  readonly offline?: boolean | undefined;
  /**
   * The issuer Names of CRLs that CRL lists name, read once for every issuer of the service (a
   * list of many CAs is read by each of them); kept across configuration reloads, like `reloads`.
   */
  readonly listedCrlIssuers?: ListedCrlIssuers | undefined;
}

/**
 * Index and CRL tables loaded once per process, in shared memory, by the supervisor of worker
 * threads (`vouch serve --workers N --worker-threads`), and handed to every worker thread with its
 * start: N threads answer from one copy of a big CA database instead of N. Each thread still
 * reloads on its own: a change lays rows over the shared table, and only a whole reload gives that
 * thread a table of its own. The supervisor hands them only to the workers it starts first, and a
 * worker only to the sources it builds first, so a table no source uses any more is not kept.
 */
export interface PreloadedTables {
  readonly indexes: readonly PreloadedIndex[];
  readonly crls: readonly PreloadedCrl[];
}

/** One index file's table. */
export interface PreloadedIndex {
  readonly file: string;
  /** The file's stat signature taken before the load read it. */
  readonly signatures: string;
  readonly parts: SerialTableParts;
  readonly duplicates: boolean;
}

/** One CRL file, verified against its issuer. */
export interface PreloadedCrl {
  readonly file: string;
  /** issuerKey() of the certificate the CRL was verified against. */
  readonly issuer: string;
  /** The file's stat signature taken before the load read it. */
  readonly signatures: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly crlNumber: bigint | undefined;
  readonly baseCrlNumber: bigint | undefined;
  readonly freshestCrl: readonly string[];
  /** The loading threads' shares of the entries. */
  readonly shares: readonly SerialTableParts[];
}

/** How a preloaded CRL names the issuer certificate it was verified against: its SHA-256 (hex). */
export function issuerKey(issuerDer: Buffer): string {
  return createHash("sha256").update(issuerDer).digest("hex");
}
