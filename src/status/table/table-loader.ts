/**
 * What a kind of revocation data (an index file, CRL files, an SQL store, later CRLs fetched from
 * URLs) provides to the table source (table-source.ts), which does everything the kinds share:
 * answering from the table, freshness, the serials view, the rows laid over the table, one refresh
 * at a time, what a failed refresh does, and telling subscribers what changed. A loader only knows
 * where its data is, how to read it (on a loading thread), and when to look again.
 */
import type { SerialTable } from "./serial-table.ts";

/**
 * How answers from the data are dated, the one rule per kind (SPEC §2 step 7: no answer promises
 * more freshness than its data has):
 * - live: data read as it is now (index.txt): thisUpdate is the time of the lookup, no nextUpdate;
 * - published: data with dates of its own (CRLs): the snapshot's thisUpdate and nextUpdate;
 * - mirror: a copy of a store that is confirmed current by each refresh (SQL): thisUpdate is the last
 *   confirmation, nextUpdate that + `maxStalenessMs`.
 */
export type Dating = { readonly kind: "live" } | { readonly kind: "published" } | { readonly kind: "mirror"; readonly maxStalenessMs: number };

/**
 * How failed refreshes are reported; what they do is the table source's one policy (the last data
 * stays in use, and only its own dates age it):
 * - per-version: a loader that refreshes only once its data changed (files): each failure is about
 *   a version not tried before, and is warned (naming the file and the problem);
 * - per-outage: a loader that retries on a schedule until the data can be read (a database): warned
 *   once when failures start and logged when a refresh succeeds again; meanwhile freshness carries
 *   `problem(error)`, so that readiness can say why the data is ageing.
 */
export type FailureReporting =
  | { readonly kind: "per-version" }
  | { readonly kind: "per-outage"; readonly warning: string; readonly recovered: string; readonly problem: (error: unknown) => string };

/** A whole table of the data, as loaded. */
export interface TableSnapshot {
  readonly table: SerialTable;
  /** Published data's own dates (ms): the thisUpdate and nextUpdate its answers carry. */
  readonly thisUpdate?: number | undefined;
  readonly nextUpdate?: number | undefined;
}

/** What a refresh found. `announce` is what the loader logs once the change is in use, with the table answers now come from. */
export type Refresh =
  /** Nothing to look at: the data is as confirmed as it was (a poll that found the files unchanged). */
  | { readonly kind: "idle" }
  /** Looked, and the data is the same: it is confirmed current as of the refresh's start. */
  | { readonly kind: "same" }
  /** A whole new table. `changedAt`: when the change became known to the source (a file's mtime), ms. */
  | { readonly kind: "whole"; readonly snapshot: TableSnapshot; readonly changedAt: number; readonly announce?: (table: SerialTable) => void }
  /** Rows to lay over the table in use (serials changed or added), each batch with when it changed. */
  | { readonly kind: "rows"; readonly batches: readonly RowBatch[]; readonly announce?: (table: SerialTable) => void };

/** Rows that changed together. */
export interface RowBatch {
  readonly rows: SerialTable;
  /** When they changed (a file's mtime, a row's change time in a store), ms. */
  readonly changedAt: number;
}

/** The first data, and what to log once it is in use. */
export interface Loaded {
  readonly snapshot: TableSnapshot;
  readonly announce?: (table: SerialTable) => void;
}

/** What a refresh is given: the table answers come from now, and how many rows lie over its base. */
export interface CurrentTable {
  readonly table: SerialTable;
  readonly overlayRows: number;
}

/** What kind of data a loader reads: what decides how the table source answers from it and treats its failures. */
export interface DataKind {
  /** For change events and logs ("index", "crl", "sql"). */
  readonly name: string;
  readonly dating: Dating;
  /** Whether the data lists every certificate the issuer issued (an unlisted serial is "not-issued") or only revocations (it is good). */
  readonly listsIssued: boolean;
  readonly failures: FailureReporting;
}

/** One kind of data for one issuer. */
export interface TableLoader {
  readonly data: DataKind;
  /** Loads the data as it is now; `undefined` when there is none yet. Rejects (a ConfigError) when the source cannot be used. */
  load(): Promise<Loaded | undefined>;
  /**
   * Brings the data up to date with `current` (undefined while there is none). Rejects when the data
   * cannot be read now; the table source then applies its failure policy. Never called twice at once.
   */
  refresh(current: CurrentTable | undefined): Promise<Refresh>;
  /**
   * Starts deciding when the data may have changed (a file watch and a poll, a NOTIFY, a fetch
   * schedule) and calls `due` then; resolves once it watches. Called once, after `load`.
   */
  watch(due: () => void): Promise<void>;
  /** Stops watching and frees what the loader holds; safe to call at any time, and again. */
  close(): Promise<void>;
}
