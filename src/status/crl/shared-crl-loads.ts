/**
 * CRL tables loaded once per process and shared by its worker threads (`--worker-threads`), as
 * shared-index-loads.ts does for index files: the supervisor's thread loads and verifies each CRL
 * file of each issuer, its loading threads building their shares of the entries in
 * SharedArrayBuffers, and hands them to every worker thread with its start; a CRL source there takes
 * its file's load instead of loading it again, when the file is still the one that was loaded.
 *
 * A CRL is verified against its issuer, so a load is keyed by the file and the issuer certificate
 * together. Reloads stay per thread. A load that fails is left out: the worker loads the file itself
 * and reports what is wrong.
 */
import { createHash } from "node:crypto";
import { ClaimOnce } from "../claim-once.ts";
import { crlIssuer, loadCrlFile, type LoadedCrl } from "./crl-load.ts";
import { fileSignatureNow } from "../files/stat-signature.ts";
import { joinedTable } from "../table/joined-table.ts";
import { serialTableFromParts, type SerialTableParts } from "../table/serial-table.ts";

/** One verified CRL over shared memory; posted to a thread of this process, it is shared, not copied. */
export interface SharedCrlLoad {
  readonly file: string;
  /** SHA-256 of the issuer certificate the CRL was verified against (hex). */
  readonly issuer: string;
  /** The file's stat signature taken before the load read it. */
  readonly signatures: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly crlNumber: bigint | undefined;
  readonly baseCrlNumber: bigint | undefined;
  readonly shares: readonly SerialTableParts[];
}

/** A CRL source of the configuration: its files and its issuer certificate (DER). */
export interface CrlFiles {
  readonly files: readonly string[];
  readonly issuerDer: Buffer;
}

const issuerKey = (issuerDer: Buffer): string => createHash("sha256").update(issuerDer).digest("hex");

/** Loads and verifies every file of `sources` into shared memory; files that fail are left out. */
export async function loadSharedCrls(sources: readonly CrlFiles[], now: number): Promise<SharedCrlLoad[]> {
  const loads = await Promise.all(
    sources.flatMap((source) => {
      let issuer: ReturnType<typeof crlIssuer>;
      try {
        issuer = crlIssuer(source.issuerDer);
      } catch {
        return [];
      }
      const key = issuerKey(source.issuerDer);
      return [...new Set(source.files)].map(async (file): Promise<SharedCrlLoad | undefined> => {
        const signatures = fileSignatureNow(file);
        try {
          const crl = await loadCrlFile(file, "files", issuer, now, undefined, { shared: true });
          const { thisUpdate, nextUpdate, crlNumber, baseCrlNumber } = crl;
          return { file, issuer: key, signatures, thisUpdate, nextUpdate, crlNumber, baseCrlNumber, shares: crl.shares ?? [] };
        } catch {
          return undefined;
        }
      });
    }),
  );
  return loads.filter((load): load is SharedCrlLoad => load !== undefined && load.shares.length > 0);
}

/** Loads offered to this thread's CRL sources; one not taken within a minute is dropped with its tables. */
const offered = new ClaimOnce<SharedCrlLoad>(60_000);

/** Worker side: the CRL sources this thread builds next may take these loads (takeSharedCrl). */
export function offerSharedCrls(loads: readonly SharedCrlLoad[]): void {
  for (const load of loads) offered.offer(`${load.issuer}\n${load.file}`, load);
}

/**
 * The offered load of `file` verified against `issuerDer`, once, as a LoadedCrl; undefined when none
 * was offered or the file has changed since (its stat signature is no longer `signatures`).
 */
export function takeSharedCrl(file: string, issuerDer: Buffer, signatures: string): LoadedCrl | undefined {
  const load = offered.take(`${issuerKey(issuerDer)}\n${file}`);
  if (load === undefined || load.signatures !== signatures) return undefined;
  return {
    file,
    thisUpdate: load.thisUpdate,
    nextUpdate: load.nextUpdate,
    crlNumber: load.crlNumber,
    baseCrlNumber: load.baseCrlNumber,
    entries: joinedTable(load.shares.map((share) => serialTableFromParts(share))),
  };
}
