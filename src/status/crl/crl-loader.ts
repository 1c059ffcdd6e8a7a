/**
 * The table loader for CRL files: complete CRLs and delta CRLs from one issuer. A listed serial is
 * revoked, any other is good (a CRL cannot tell issued from not issued); answers carry the
 * thisUpdate/nextUpdate of the CRL data they came from (the delta's, when one applies). Staleness is
 * guardStale's business; this loader only keeps its last good CRLs current. Each file is loaded and
 * verified on two loading threads (crl-load.ts) and reloaded on its own when it changes; a file that
 * fails any check is logged and its previous CRL stays in the view.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { changedAt, fileSignatures, pollInterval, watchFileChanges, type FileChanges } from "../files/file-changes.ts";
import { preloadedCrl } from "../preloads.ts";
import type { PreloadedTables } from "../source-supply.ts";
import { requireClock, requireDer, requireFile, requireLogger } from "../source-options.ts";
import type { DataKind, TableLoader, TableSnapshot } from "../table/table-loader.ts";
import { overlaidTable } from "../table/table-overlay.ts";
import { openTableSource, type TableSource } from "../table/table-source.ts";
import type { CrlView, LoadedCrl } from "./crl-load.ts";
import { crlIssuer, loadCrlFile, selectCrlView } from "./crl-load.ts";

export interface CrlSourceOptions {
  /** CRL files, PEM or DER: at least one complete CRL, plus any delta CRLs. */
  readonly files: readonly string[];
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
export async function openCrlSource(options: CrlSourceOptions): Promise<TableSource> {
  if (!Array.isArray(options.files) || options.files.length === 0) throw new ConfigError("files", "must list at least one CRL file");
  const files = options.files.map((file, i) => requireFile(file, `files[${i}]`));
  const issuerDer = requireDer(options.issuer, "issuer");
  const clock = requireClock(options.clock);
  const logger = requireLogger(options.logger);
  const pollIntervalMs = pollInterval(options.pollIntervalMs);
  const loader = crlLoader({ files, issuerDer, clock, logger, pollIntervalMs, tables: options.tables });
  return openTableSource({ issuer: issuerDer, loader, clock, logger });
}

/** CRLs: data with dates of its own that lists only revocations; a reload happens only once a file changed. */
const CRL_DATA: DataKind = { name: "crl", dating: { kind: "published" }, listsIssued: false, failures: { kind: "per-version" } };

interface CrlLoaderOptions {
  readonly files: readonly string[];
  readonly issuerDer: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pollIntervalMs: number;
  readonly tables: PreloadedTables | undefined;
}

function crlLoader(options: CrlLoaderOptions): TableLoader {
  const { files, issuerDer, clock, logger } = options;
  const issuer = crlIssuer(issuerDer);
  const aborter = new AbortController();
  const signatures = new Map<string, string>();
  const loaded = new Map<string, LoadedCrl>();
  let changes: FileChanges | undefined;
  let allSignatures = "";

  const load = async (file: string, index: number): Promise<void> => {
    const signature = await fileSignatures([file]);
    signatures.set(file, signature);
    loaded.set(file, preloadedCrl(options.tables, file, issuerDer, signature) ?? (await loadCrlFile(file, `files[${index}]`, issuer, clock.now(), aborter.signal)));
  };

  return {
    data: CRL_DATA,
    async load() {
      allSignatures = await fileSignatures(files);
      try {
        await Promise.all(files.map(load));
      } catch (error) {
        // Stop the other files' entry walks: the source will never open.
        aborter.abort();
        throw error;
      }
      const view = selectCrlView(files.map((file) => loaded.get(file)).filter((crl) => crl !== undefined));
      if (view === undefined) throw new ConfigError("files", "no complete CRL among the files (only delta CRLs)");
      return { snapshot: snapshotOf(view), announce: () => logView(logger, view, clock.now(), "CRL loaded") };
    },
    async watch(due) {
      changes = watchFileChanges({ files, pollIntervalMs: options.pollIntervalMs, logger, loadedSignatures: allSignatures, onChange: due });
    },
    async refresh() {
      const version = await changes?.check();
      if (version === undefined) return { kind: "idle" };
      for (const [index, file] of files.entries()) {
        const signature = await fileSignatures([file]);
        if (signature === signatures.get(file)) continue;
        try {
          await load(file, index);
        } catch (error) {
          if (aborter.signal.aborted) return { kind: "idle" };
          logger.warn({ file, err: error instanceof ConfigError ? error.message : String(error) }, "CRL not reloaded; keeping the last good CRL");
        }
      }
      const view = selectCrlView(loaded.values());
      if (view === undefined) return { kind: "idle" };
      return { kind: "whole", snapshot: snapshotOf(view), changedAt: await changedAt(files, version), announce: () => logView(logger, view, clock.now(), "CRL reloaded") };
    },
    async close() {
      aborter.abort();
      await changes?.close();
    },
  };
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
