/**
 * Index loads started before the service is built. Measured with a 1M-line index
 * (bench/source-ready.ts): Node's start and the loading of Vouch's modules took ~0.6 s of the
 * ~1.4 s to ready, and the index load only began after them, on a machine with a core to spare.
 * `vouch serve` (cli/early-start.ts) reads the configuration's index files first and starts their
 * loads here; `openIndexSource` takes a started load instead of starting its own.
 */
import { ClaimOnce } from "../claim-once.ts";
import { loadIndex, type LoadedIndex } from "./load-index-in-worker.ts";
import { fileSignatureNow } from "../files/stat-signature.ts";

/** A load started early, and the stat signature of the file taken before it began reading. */
export interface PreloadedIndex {
  readonly signatures: string;
  readonly loaded: Promise<LoadedIndex>;
}

/**
 * A load not taken within a minute is dropped, so that a file the configuration turned out not to
 * use (the early read of it guessed wrong) does not keep its table; the source then loads the file
 * itself.
 */
const started = new ClaimOnce<PreloadedIndex>(60_000);

/**
 * Starts loading `file` (an absolute path) on a worker thread unless a load of it is already
 * waiting. Never throws: a file that cannot be read fails its load, and the source reports that.
 */
export function preloadIndex(file: string): void {
  if (started.has(file)) return;
  const loaded = loadIndex(file);
  // Nobody may ever await it (see `started`); the source that does sees the rejection itself.
  loaded.catch(() => {});
  started.offer(file, { signatures: fileSignatureNow(file), loaded });
}

/**
 * Registers a load made elsewhere (by the supervisor of worker threads, shared-index-loads.ts) as if
 * preloadIndex had started it here, with the stat signature taken before it began reading.
 */
export function offerPreloadedIndex(file: string, preloaded: PreloadedIndex): void {
  started.offer(file, preloaded);
}

/** The load of `file` started by preloadIndex, once: later calls start nothing and find nothing. */
export function takePreloadedIndex(file: string): PreloadedIndex | undefined {
  return started.take(file);
}
