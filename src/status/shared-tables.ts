/**
 * What the supervisor of worker threads hands each of them at its start: the index and CRL tables
 * it loaded once, in shared memory (shared-index-loads.ts, shared-crl-loads.ts).
 */
import { offerSharedCrls, type SharedCrlLoad } from "./crl/shared-crl-loads.ts";
import { offerSharedIndexes, type SharedIndexLoad } from "./index/shared-index-loads.ts";

export interface SharedTables {
  readonly indexes: readonly SharedIndexLoad[];
  readonly crls: readonly SharedCrlLoad[];
}

/** Worker side: the sources this thread builds next take these tables instead of loading their files. */
export function offerSharedTables(tables: SharedTables): void {
  offerSharedIndexes(tables.indexes);
  offerSharedCrls(tables.crls);
}
