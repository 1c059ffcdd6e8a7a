/**
 * Known serials from a folder of the certificates a CA issued (PEM or DER, one or more per file), as
 * a table loader (table/table-loader.ts): data that lists every issued certificate, so a serial not
 * in it is "not-issued". Only the certificates whose issuer Name is the CA's subject count (the folder
 * may hold other CAs' too). The folder is watched (fs.watch, and a poll as the safety net); a scan
 * reads only files that are new or changed since the last one.
 */
import { watch, type FSWatcher } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../clock.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { readCertificatesFile } from "../../certificate-file.ts";
import type { DataKind, TableLoader } from "../table/table-loader.ts";
import { openTableSource, type TableSource } from "../table/table-source.ts";
import { putRecord, SerialTableBuilder, type SerialTable } from "../table/serial-table.ts";

export interface IssuedFolderOptions {
  readonly folder: string;
  /** DER of the CA certificate whose issued certificates count. */
  readonly issuer: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The poll under fs.watch (ms). */
  readonly pollIntervalMs: number;
}

/** Certificates as issued: listed and not revoked (revocations are the CRL's business), read as they are now. */
const ISSUED: DataKind = { name: "issued-certificates", dating: { kind: "live" }, listsIssued: true, failures: { kind: "per-version" } };

/** Opens the folder's table source. Rejects with ConfigError("folder") when the folder cannot be read. */
export function openIssuedFolder(options: IssuedFolderOptions): Promise<TableSource> {
  return openTableSource({ issuer: options.issuer, loader: issuedFolderLoader(options), clock: options.clock, logger: options.logger });
}

interface Scanned {
  /** size:mtime of the file when it was read. */
  readonly version: string;
  readonly serials: readonly Buffer[];
}

function issuedFolderLoader(options: IssuedFolderOptions): TableLoader {
  const { folder, logger } = options;
  const subject = certificateFields(options.issuer).subjectDer;
  let files = new Map<string, Scanned>();
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;

  /** Reads the folder anew (only changed files' contents); whether anything changed. */
  const scan = async (): Promise<boolean> => {
    let names: string[];
    try {
      names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isFile() && !entry.name.startsWith(".")).map((entry) => entry.name);
    } catch (error) {
      throw new ConfigError("folder", `cannot be read: ${error instanceof Error ? error.message : String(error)}`, { file: folder, cause: error });
    }
    const next = new Map<string, Scanned>();
    let changed = names.length !== files.size;
    for (const name of names) {
      const file = join(folder, name);
      const info = await stat(file).catch(() => undefined);
      if (info === undefined) continue;
      const version = `${info.size}:${info.mtimeMs}`;
      const before = files.get(file);
      if (before?.version === version) {
        next.set(file, before);
        continue;
      }
      changed = true;
      next.set(file, { version, serials: await serialsIn(file) });
    }
    files = next;
    return changed;
  };

  /** The serials of the certificates in `file` that this CA issued; none when it holds no certificate. */
  const serialsIn = async (file: string): Promise<Buffer[]> => {
    try {
      return (await readCertificatesFile(file, "knownSerials.folder"))
        .map((der) => certificateFields(der))
        .filter((fields) => fields.issuerDer.equals(subject))
        .map((fields) => fields.serialNumber);
    } catch (error) {
      logger.debug({ file, err: error instanceof Error ? error.message : String(error) }, "not a certificate file; passed over");
      return [];
    }
  };

  const table = (): SerialTable => {
    const count = [...files.values()].reduce((sum, scanned) => sum + scanned.serials.length, 0);
    const builder = new SerialTableBuilder({ expectedRows: count, maxRows: Math.max(count, 1), maxPoolBytes: Math.max(count * 32, 64) });
    for (const scanned of files.values()) for (const serial of scanned.serials) putRecord(builder, serial, { revokedAt: undefined, reason: undefined, invalidityDate: undefined });
    return builder.build();
  };

  return {
    data: ISSUED,
    async load() {
      await scan();
      const snapshot = { table: table() };
      return { snapshot, announce: (loaded) => logger.info({ folder, certificates: loaded.size }, "known serials loaded") };
    },
    async watch(due) {
      try {
        watcher = watch(folder, () => due());
        watcher.on("error", () => {});
      } catch {
        // The poll alone then.
      }
      poll = setInterval(due, options.pollIntervalMs);
      poll.unref();
    },
    async refresh() {
      if (!(await scan())) return { kind: "idle" };
      return { kind: "whole", snapshot: { table: table() }, changedAt: options.clock.now(), announce: (loaded) => logger.info({ folder, certificates: loaded.size }, "known serials reloaded") };
    },
    async close() {
      watcher?.close();
      clearInterval(poll);
    },
  };
}
