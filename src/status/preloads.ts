/**
 * The tables a supervisor of worker threads loads once for all of them (source-supply.ts
 * PreloadedTables), and how a source finds its own among them. Each index file and each CRL file
 * (verified against its issuer) is loaded on loading threads into SharedArrayBuffers, which a
 * thread of this process receives shared, not copied. A load that fails is left out: the worker then
 * loads the file itself and reports what is wrong, naming the field.
 */
import { fileSignatureNow } from "./files/stat-signature.ts";
import { runHere, runOnItsOwnThread } from "./loading-thread.ts";
import { smallEnoughToParseHere } from "./index/parsed-here.ts";
import { crlIssuer, loadCrlFile, type LoadedCrl } from "./crl/crl-load.ts";
import { issuerKey, type PreloadedCrl, type PreloadedIndex, type PreloadedTables } from "./source-supply.ts";
import { joinedTable } from "./table/joined-table.ts";
import { serialTableFromParts } from "./table/serial-table.ts";

/** A CRL source of the configuration: its files and its issuer certificate (DER). */
export interface CrlFiles {
  readonly files: readonly string[];
  readonly issuerDer: Buffer;
}

/** Loads `indexFiles` (absolute paths) and the files of `crlSources` once each, leaving out what fails. */
export async function loadPreloadedTables(indexFiles: readonly string[], crlSources: readonly CrlFiles[], now: number): Promise<PreloadedTables> {
  const [indexes, crls] = await Promise.all([Promise.all([...new Set(indexFiles)].map(loadIndex)), Promise.all(crlSources.flatMap((source) => loadCrls(source, now)))]);
  return { indexes: indexes.filter((load) => load !== undefined), crls: crls.filter((load) => load !== undefined && load.shares.length > 0) as PreloadedCrl[] };
}

async function loadIndex(file: string): Promise<PreloadedIndex | undefined> {
  const signatures = fileSignatureNow(file);
  try {
    // A small file is parsed here: a thread would cost the supervisor more than the table (parsed-here.ts).
    const parts = (await smallEnoughToParseHere(file)) ? await runHere("index.load", { file }) : await runOnItsOwnThread("index.load", { file });
    return { file, signatures, parts, duplicates: parts.duplicates > 0 };
  } catch {
    return undefined;
  }
}

function loadCrls(source: CrlFiles, now: number): Promise<PreloadedCrl | undefined>[] {
  let issuer: ReturnType<typeof crlIssuer>;
  try {
    issuer = crlIssuer(source.issuerDer);
  } catch {
    return [];
  }
  const key = issuerKey(source.issuerDer);
  return [...new Set(source.files)].map(async (file) => {
    const signatures = fileSignatureNow(file);
    try {
      const crl = await loadCrlFile(file, "files", issuer, now);
      const { thisUpdate, nextUpdate, crlNumber, baseCrlNumber, freshestCrl } = crl;
      return { file, issuer: key, signatures, thisUpdate, nextUpdate, crlNumber, baseCrlNumber, freshestCrl, shares: crl.shares };
    } catch {
      return undefined;
    }
  });
}

/** The table of index `file` among `tables`, if it was preloaded. */
export function preloadedIndex(tables: PreloadedTables | undefined, file: string): PreloadedIndex | undefined {
  return tables?.indexes.find((load) => load.file === file);
}

/** The CRL of `file` among `tables`, if it was verified against `issuerDer` and the file's stat signature is still `signature`. */
export function preloadedCrl(tables: PreloadedTables | undefined, file: string, issuerDer: Buffer, signature: string): LoadedCrl | undefined {
  const key = issuerKey(issuerDer);
  const load = tables?.crls.find((crl) => crl.file === file && crl.issuer === key);
  if (load === undefined || load.signatures !== signature) return undefined;
  const { thisUpdate, nextUpdate, crlNumber, baseCrlNumber, freshestCrl } = load;
  return { file, thisUpdate, nextUpdate, crlNumber, baseCrlNumber, freshestCrl, entries: joinedTable(load.shares.map((share) => serialTableFromParts(share))), shares: load.shares };
}
