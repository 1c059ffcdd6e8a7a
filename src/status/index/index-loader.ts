/**
 * The table loader for the certificate database `openssl ca` keeps (index.txt). The index is live
 * data: it lists every certificate the CA issued, so an absent serial is "not-issued", and answers
 * carry the lookup time as thisUpdate and no nextUpdate. Loads run on loading threads (see
 * index-jobs.ts), but those of a small file, which run here; the file is looked at again when it
 * changes (file-changes.ts), and a reload parses only the blocks that changed when that is enough.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { changedAt, fileSignatures, pollInterval, watchFileChanges, type FileChanges, type FileVersion } from "../files/file-changes.ts";
import { runHere, runOnItsOwnThread, type LoadingThread } from "../loading-thread.ts";
import type { Jobs } from "../loading-jobs.ts";
import { preloadedIndex } from "../preloads.ts";
import { RELOAD_NICENESS, reloadThread, type PreloadedIndex, type PreloadedTables } from "../source-supply.ts";
import { requireClock, requireDer, requireFile, requireLogger } from "../source-options.ts";
import { serialTableFromParts, type SerialTable } from "../table/serial-table.ts";
import type { DataKind, Refresh, TableLoader } from "../table/table-loader.ts";
import { openTableSource, type TableSource } from "../table/table-source.ts";
import type { IndexBlocks } from "./index-blocks.ts";
import { rowsToLayOver } from "./index-changes.ts";
import { PARSED_HERE_BYTES, smallEnoughToParseHere } from "./parsed-here.ts";

/**
 * Changed rows laid over the whole table before a reload parses the whole file again: past this
 * many, a whole parse off the serving thread is cheaper than the probes every lookup that misses
 * the overlay pays.
 */
const MAX_OVERLAY_ROWS = 4096;

export interface IndexSourceOptions {
  /** Path of index.txt. */
  readonly file: string;
  /** DER of the CA certificate whose database this is. */
  readonly issuer: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Stat poll period, the safety net under fs.watch (default 1000, at least 10). */
  readonly pollIntervalMs?: number;
  /** The thread reloads run on, shared by a process's sources (one of its own otherwise, stopped with it). */
  readonly reloads?: LoadingThread | undefined;
  /** Tables loaded before this source: the one of `file`, if any, is used instead of loading it again. */
  readonly tables?: PreloadedTables | undefined;
  /** Files up to this many bytes are parsed on this thread, not on a loading thread (default PARSED_HERE_BYTES, parsed-here.ts; 0: always on one). */
  readonly parsedHereBytes?: number | undefined;
}

/**
 * Opens an index.txt source. Resolves once the file has been read and parsed, so the source
 * answers from its first call; from then on it reloads the file whenever it changes and swaps in
 * the new data only when the whole file parsed, logging a warning (with the file and line) and
 * keeping the last good data otherwise.
 *
 * Rejects with ConfigError when an option is invalid (field = the option's name), when `issuer`
 * is not a certificate, or when the file cannot be read or has a malformed line
 * (field "file", file set, message "line N: ...").
 */
export async function openIndexSource(options: IndexSourceOptions): Promise<TableSource> {
  const file = requireFile(options.file, "file");
  const issuer = requireDer(options.issuer, "issuer");
  const clock = requireClock(options.clock);
  const logger = requireLogger(options.logger);
  const pollIntervalMs = pollInterval(options.pollIntervalMs);
  const preloaded = preloadedIndex(options.tables, file);
  const loader = indexLoader({ file, pollIntervalMs, logger, reloads: options.reloads, preloaded, parsedHereBytes: options.parsedHereBytes ?? PARSED_HERE_BYTES });
  return openTableSource({ issuer, loader, clock, logger });
}

/** index.txt: live data that lists every certificate the CA issued; a reload happens only once the file changed. */
const INDEX_DATA: DataKind = { name: "index", dating: { kind: "live" }, listsIssued: true, failures: { kind: "per-version" } };

interface IndexLoaderOptions {
  readonly file: string;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  readonly reloads: LoadingThread | undefined;
  readonly preloaded: PreloadedIndex | undefined;
  readonly parsedHereBytes: number;
}

function indexLoader(options: IndexLoaderOptions): TableLoader {
  const { file, logger } = options;
  const reloads = options.reloads ?? reloadThread();
  let loadedSignatures = "";
  // The blocks of the content the table holds: with them a reload parses only what changed. The first
  // load does not scan for them (it would delay ready); the reload thread does, right after.
  let blocks: IndexBlocks | undefined;
  let scanned: Promise<void> = Promise.resolve();
  let changes: FileChanges | undefined;
  let closed = false;

  /** Runs `job` here for a small file, else on `thread`, or on a thread of its own at `niceness` (see runOnItsOwnThread). */
  const run = async <J extends "index.load" | "index.reload" | "index.scan">(thread: LoadingThread | number | undefined, job: J, input: Jobs[J]["input"]): Promise<Jobs[J]["output"]> => {
    try {
      if (await smallEnoughToParseHere(file, options.parsedHereBytes)) return await runHere(job, input);
      return typeof thread === "object" ? await thread.run(job, input) : await runOnItsOwnThread(job, input, { niceness: thread });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError("file", `loading failed: ${error instanceof Error ? error.message : String(error)}`, { file, cause: error });
    }
  };

  /** The first load: the preloaded table, or a whole parse on a thread of its own (first loads run side by side). */
  const loadFirst = async (): Promise<{ table: SerialTable; duplicates: boolean }> => {
    const preloaded = options.preloaded;
    if (preloaded !== undefined) {
      loadedSignatures = preloaded.signatures;
      return { table: serialTableFromParts(preloaded.parts), duplicates: preloaded.duplicates };
    }
    loadedSignatures = await fileSignatures([file]);
    const parts = await run(undefined, "index.load", { file });
    return { table: serialTableFromParts(parts), duplicates: parts.duplicates > 0 };
  };

  const scan = (duplicates: boolean): Promise<void> =>
    run(reloads, "index.scan", { file, signature: loadedSignatures, duplicates }).then(
      (found) => {
        blocks = found;
        if (found === undefined) logger.info({ file }, "index changed before its blocks were scanned; the next reload parses it whole");
        else logger.debug({ file, blocks: found.lines.length }, "index blocks scanned");
      },
      (error: unknown) => {
        // The first reload then parses the whole file, as it would without blocks.
        if (!closed) logger.warn({ file, err: error instanceof Error ? error.message : String(error) }, "index blocks not scanned; the next reload parses the whole file");
      },
    );

  /** A whole parse, on a thread of its own (see runOnItsOwnThread), at the reloads' priority. */
  const reloadWhole = async (version: FileVersion): Promise<Refresh> => {
    const reload = await run(RELOAD_NICENESS, "index.reload", { file, previous: undefined });
    if (reload.kind !== "full") {
      logger.warn({ file }, "index reload gave no table; keeping the last good data");
      return { kind: "idle" };
    }
    blocks = reload.blocks;
    const table = serialTableFromParts(reload.parts);
    return { kind: "whole", snapshot: { table }, changedAt: await changedAt([file], version), announce: (now) => logger.info({ file, entries: now.size }, "index reloaded") };
  };

  return {
    data: INDEX_DATA,
    async load() {
      const first = await loadFirst();
      scanned = scan(first.duplicates);
      return { snapshot: { table: first.table }, announce: (table) => logger.info({ file, entries: table.size }, "index loaded") };
    },
    async watch(due) {
      changes = watchFileChanges({ files: [file], pollIntervalMs: options.pollIntervalMs, logger, loadedSignatures, onChange: due });
    },
    async refresh(current) {
      const version = await changes?.check();
      if (version === undefined || current === undefined) return { kind: "idle" };
      await scanned;
      if (blocks === undefined) return reloadWhole(version);
      // The long-lived thread parses only changed blocks; a whole parse runs on a thread of its own.
      const next = await run(reloads, "index.reload", { file, previous: blocks, parseWholeHere: false });
      if (next.kind === "unchanged") {
        logger.info({ file }, "index rewritten with the same content; kept without a re-parse");
        return { kind: "same" };
      }
      if (next.kind !== "blocks") return reloadWhole(version);
      const changed = { changed: serialTableFromParts(next.changed), appended: serialTableFromParts(next.appended), duplicates: next.blocks.duplicates };
      const rows = rowsToLayOver(current.table, changed, MAX_OVERLAY_ROWS - current.overlayRows);
      if (rows === "whole") return reloadWhole(version);
      blocks = next.blocks;
      return { kind: "rows", batches: [{ rows, changedAt: await changedAt([file], version) }], announce: (now) => logger.info({ file, entries: now.size, changedLines: next.lines }, "index reloaded") };
    },
    async close() {
      if (closed) return;
      closed = true;
      await changes?.close();
      if (options.reloads === undefined) await reloads.close();
    },
  };
}
