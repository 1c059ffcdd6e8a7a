/**
 * Index tables loaded once per process and shared by its worker threads (`vouch serve --workers N
 * --worker-threads`). The supervisor's thread loads each index file of the configuration on a
 * loading thread, which builds the table's arrays in SharedArrayBuffers, and hands them to every
 * worker thread with its start; each worker offers them to its index sources as a preload
 * (index-preload.ts), so that N threads answer from one copy of a big CA database instead of N.
 *
 * Each thread still reloads on its own: a change lays a small overlay of changed rows over the
 * shared table (table-overlay.ts), and only a whole re-parse gives that thread a table of its own.
 * A load that fails is left out: the worker then loads the file itself and reports what is wrong.
 */
import { offerPreloadedIndex } from "./index-preload.ts";
import { fileSignatureNow } from "../files/stat-signature.ts";
import { loadIndexParts } from "./load-index-in-worker.ts";
import { serialTableFromParts, type SerialTableParts } from "../table/serial-table.ts";

/** One file's table, over shared memory; posted to a thread of this process, it is shared, not copied. */
export interface SharedIndexLoad {
  readonly file: string;
  /** The file's stat signature taken before the load read it (see PreloadedIndex). */
  readonly signatures: string;
  readonly parts: SerialTableParts;
  readonly duplicates: boolean;
}

/** Loads each of `files` (absolute paths, each once) into shared memory; files that fail are left out. */
export async function loadSharedIndexes(files: readonly string[]): Promise<SharedIndexLoad[]> {
  const loads = await Promise.all(
    [...new Set(files)].map(async (file): Promise<SharedIndexLoad | undefined> => {
      const signatures = fileSignatureNow(file);
      try {
        const { parts, duplicates } = await loadIndexParts(file);
        return { file, signatures, parts, duplicates };
      } catch {
        return undefined;
      }
    }),
  );
  return loads.filter((load) => load !== undefined);
}

/** Worker side: the index sources this thread builds next take these tables instead of loading their files. */
export function offerSharedIndexes(loads: readonly SharedIndexLoad[]): void {
  for (const load of loads) {
    offerPreloadedIndex(load.file, { signatures: load.signatures, loaded: Promise.resolve({ table: serialTableFromParts(load.parts), duplicates: load.duplicates }) });
  }
}
