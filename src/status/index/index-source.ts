/**
 * A StatusSource over the certificate database `openssl ca` keeps (index.txt). The index is
 * live data: it lists every certificate the CA issued, so an absent serial is "not-issued", and
 * answers carry the lookup time as thisUpdate and no nextUpdate.
 */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../observability/logger.ts";
import type { CertId } from "../../ocsp/types.ts";
import { fileSignatures, pollInterval, startFileReloader } from "../files/file-reloader.ts";
import { takePreloadedIndex } from "./index-preload.ts";
import { issuerMatch } from "../issuer-match.ts";
import { sharedIndexReloadThread } from "./index-reload-thread.ts";
import { loadIndex, RELOAD_NICENESS } from "./load-index-in-worker.ts";
import type { IndexBlocks } from "./index-blocks.ts";
import type { SerialTable } from "../table/serial-table.ts";
import { mergeChanges, overlaidTable } from "../table/table-overlay.ts";
import { requireClock, requireDer, requireFile, requireLogger } from "../source-options.ts";
import type { OpenedSource, StatusAnswer } from "../status-source.ts";

/**
 * Changed rows kept over the whole table before a reload parses the whole file again. Each merge
 * copies the overlay on the serving thread: ~4 ms at 4,096 rows, ~28 ms at 65,536 (measured with one
 * new row a merge); past this a whole parse runs off that thread instead.
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
}

/**
 * Opens an index.txt source. Resolves once the file has been read and parsed, so the source
 * answers from its first call; from then on it reloads the file whenever it changes (see
 * file-reloader.ts) and swaps in the new data only when the whole file parsed, logging a
 * warning (with the file and line) and keeping the last good data otherwise.
 *
 * Rejects with ConfigError when an option is invalid (field = the option's name), when `issuer`
 * is not a certificate, or when the file cannot be read or has a malformed line
 * (field "file", file set, message "line N: ...").
 */
export async function openIndexSource(options: IndexSourceOptions): Promise<OpenedSource> {
  const file = requireFile(options.file, "file");
  const issuer = requireDer(options.issuer, "issuer");
  const clock = requireClock(options.clock);
  const logger = requireLogger(options.logger);
  const interval = pollInterval(options.pollIntervalMs);
  const match = issuerMatch(issuer);

  // Loads run off the serving thread: see load-index-in-worker.ts for what they cost on it.
  // A load `vouch serve` started before its modules were loaded (index-preload.ts), if any.
  const preloaded = takePreloadedIndex(file);
  const signatures = preloaded?.signatures ?? (await fileSignatures([file]));
  // The whole table last parsed, and the rows of the blocks changed since (index-blocks.ts).
  const first = await (preloaded?.loaded ?? loadIndex(file));
  let base: SerialTable = first.table;
  let overlay: SerialTable | undefined;
  // The one reference every lookup reads; a reload replaces it in a single assignment.
  let table: SerialTable = base;
  // The blocks of the content `table` holds: with them a reload parses only what changed. The first
  // load does not scan for them (it would delay ready); the reload thread does, right after.
  let blocks: IndexBlocks | undefined;
  let loadedAt = clock.now();
  logger.info({ file, entries: table.size }, "index loaded");
  let closed = false;

  // A lower priority than the serving thread's, so that a reload takes spare CPU rather than a core from answering.
  const reloads = sharedIndexReloadThread(RELOAD_NICENESS);
  const scanned = reloads.scan(file, signatures, first.duplicates).then(
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
  const reloader = startFileReloader({
    files: [file],
    pollIntervalMs: interval,
    logger,
    loadedSignatures: signatures,
    reload: async () => {
      await scanned;
      let next = await reloads.load(file, blocks);
      if (closed) return;
      if (next.kind === "unchanged") {
        loadedAt = clock.now();
        logger.info({ file }, "index rewritten with the same content; kept without a re-parse");
        return;
      }
      if (next.kind === "blocks") {
        const merged = mergeChanges(base, overlay, { changed: next.changed, appended: next.appended, duplicates: next.blocks.duplicates }, MAX_OVERLAY_ROWS);
        if (merged.whole !== true) {
          overlay = merged.overlay;
          table = overlay === undefined ? base : overlaidTable(base, overlay);
          blocks = next.blocks;
          loadedAt = clock.now();
          logger.info({ file, entries: table.size, changedLines: next.lines }, "index reloaded");
          return;
        }
        next = await reloads.load(file, undefined);
        if (closed) return;
      }
      if (next.kind !== "full") {
        logger.warn({ file }, "index reload gave no table; keeping the last good data");
        return;
      }
      base = next.table;
      overlay = undefined;
      table = base;
      blocks = next.blocks;
      loadedAt = clock.now();
      logger.info({ file, entries: table.size }, "index reloaded");
    },
  });

  return {
    status(id: CertId): StatusAnswer | undefined {
      if (closed || !match.matches(id)) return undefined;
      const record = table.lookup(id.serialNumber);
      const thisUpdate = new Date(clock.now());
      if (record === undefined) return { kind: "not-issued", thisUpdate };
      if (record.revokedAt === undefined) return { kind: "good", thisUpdate };
      return {
        kind: "revoked",
        thisUpdate,
        revokedAt: new Date(record.revokedAt),
        reason: record.reason,
        invalidityDate: record.invalidityDate === undefined ? undefined : new Date(record.invalidityDate),
      };
    },
    freshness() {
      return closed ? undefined : { loadedAt };
    },
    async close(): Promise<void> {
      closed = true;
      await reloader.close();
      await reloads.close();
    },
    // index.txt lists every certificate the CA issued (the table as loaded when iteration starts).
    serials: () => (closed ? [] : table.serials()),
  };
}
