/**
 * A StatusSource over CRL files: complete CRLs and delta CRLs from one issuer. A listed serial is
 * revoked, any other is good (a CRL cannot tell issued from not issued); answers carry the
 * thisUpdate/nextUpdate of the CRL data they came from (the delta's, when one applies).
 * Staleness is guardStale's business; this source only keeps its last good data current.
 */
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import type { CertId } from "../../ocsp/types.ts";
import type { CrlView, LoadedCrl } from "./crl-load.ts";
import { crlIssuer, loadCrlFile, selectCrlView } from "./crl-load.ts";
import { fileSignatures, pollInterval, startFileReloader } from "../files/file-reloader.ts";
import { issuerMatch } from "../issuer-match.ts";
import { takeSharedCrl } from "./shared-crl-loads.ts";
import type { SerialRecord } from "../table/serial-table.ts";
import { requireClock, requireDer, requireFile, requireLogger } from "../source-options.ts";
import type { OpenedSource, StatusAnswer } from "../status-source.ts";

export interface CrlSourceOptions {
  /** CRL files, PEM or DER: at least one complete CRL, plus any delta CRLs. */
  readonly files: readonly string[];
  /** DER of the CA certificate that issues (and signs) the CRLs. */
  readonly issuer: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Stat poll period, the safety net under fs.watch (default 1000, at least 10). */
  readonly pollIntervalMs?: number;
}

/**
 * Opens a CRL source. Resolves once every file has been loaded and verified (crl-load.ts), so
 * the source answers from its first call. Afterwards each changed file is reloaded on its own;
 * a file that fails any check is logged (warning, naming the file and the problem, once per
 * change) and its previous CRL stays in use. The data lookups read is replaced in one assignment,
 * after everything new has verified.
 *
 * Rejects with ConfigError when an option is invalid, when `issuer` is not a certificate, when
 * any file fails to load (field `files[i]`, file set), or when the files hold no complete CRL.
 */
export async function openCrlSource(options: CrlSourceOptions): Promise<OpenedSource> {
  if (!Array.isArray(options.files) || options.files.length === 0) throw new ConfigError("files", "must list at least one CRL file");
  const files = options.files.map((file, i) => requireFile(file, `files[${i}]`));
  const issuerDer = requireDer(options.issuer, "issuer");
  const clock = requireClock(options.clock);
  const logger = requireLogger(options.logger);
  const interval = pollInterval(options.pollIntervalMs);
  const match = issuerMatch(issuerDer);
  const issuer = crlIssuer(issuerDer);
  const aborter = new AbortController();

  const allSignatures = await fileSignatures(files);
  const signatures = new Map<string, string>();
  const loaded = new Map<string, LoadedCrl>();
  try {
    await Promise.all(
      files.map(async (file, i) => {
        const signature = await fileSignatures([file]);
        signatures.set(file, signature);
        // Worker threads: a load the supervisor made once for all of them (shared-crl-loads.ts), if the file is unchanged.
        loaded.set(file, takeSharedCrl(file, issuerDer, signature) ?? (await loadCrlFile(file, `files[${i}]`, issuer, clock.now(), aborter.signal)));
      }),
    );
  } catch (error) {
    // Stop the other files' entry walks: the source will never open.
    aborter.abort();
    throw error;
  }
  const first = selectCrlView(files.map((file) => loaded.get(file)).filter((crl) => crl !== undefined));
  if (first === undefined) throw new ConfigError("files", "no complete CRL among the files (only delta CRLs)");
  // The one reference every lookup reads; a reload replaces it in a single assignment.
  let view: CrlView = first;
  let loadedAt = clock.now();
  logView(logger, view, clock.now(), "CRL loaded");
  let closed = false;

  const reload = async (): Promise<void> => {
    for (const [i, file] of files.entries()) {
      const signature = await fileSignatures([file]);
      if (signature === signatures.get(file)) continue;
      signatures.set(file, signature);
      try {
        loaded.set(file, await loadCrlFile(file, `files[${i}]`, issuer, clock.now(), aborter.signal));
      } catch (error) {
        if (closed) return;
        const message = error instanceof ConfigError ? error.message : String(error);
        logger.warn({ file, err: message }, "CRL not reloaded; keeping the last good CRL");
      }
    }
    const next = selectCrlView(loaded.values());
    if (closed || next === undefined) return;
    view = next;
    loadedAt = clock.now();
    logView(logger, view, clock.now(), "CRL reloaded");
  };

  const reloader = startFileReloader({ files, pollIntervalMs: interval, logger, loadedSignatures: allSignatures, reload });

  return {
    status(id: CertId): StatusAnswer | undefined {
      if (closed || !match.matches(id)) return undefined;
      const current = view;
      const key = id.serialNumber;
      const source = current.delta ?? current.full;
      const thisUpdate = new Date(source.thisUpdate);
      const nextUpdate = source.nextUpdate === undefined ? undefined : new Date(source.nextUpdate);
      // A delta lists what changed since its base, so its entry (even removeFromCRL) has the last word.
      const record = current.delta?.entries.lookup(key) ?? current.full.entries.lookup(key);
      if (record === undefined || !isRevoked(record)) return { kind: "good", thisUpdate, nextUpdate };
      return {
        kind: "revoked",
        thisUpdate,
        nextUpdate,
        revokedAt: new Date(record.revokedAt),
        reason: record.reason,
        invalidityDate: record.invalidityDate === undefined ? undefined : new Date(record.invalidityDate),
      };
    },
    freshness() {
      if (closed) return undefined;
      // The nextUpdate the answers carry: the delta's when one applies.
      const nextUpdate = (view.delta ?? view.full).nextUpdate;
      return nextUpdate === undefined ? { loadedAt } : { loadedAt, nextUpdate };
    },
    async close(): Promise<void> {
      closed = true;
      aborter.abort();
      await reloader.close();
    },
  };
}

/** removeFromCRL (RFC 5280 §5.3.1) means the entry is no longer revoked: a hold was released. */
function isRevoked(record: SerialRecord): record is SerialRecord & { revokedAt: number } {
  return record.revokedAt !== undefined && record.reason !== "removeFromCRL";
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
