/**
 * Every job a loading thread (loading-thread.ts) runs: its name, what it is given and what it
 * gives back. A thread imports a job's module the first time it runs it.
 */
import type { Transferable } from "node:worker_threads";
import type { CrlShareDone, CrlShareInput } from "./crl/crl-jobs.ts";
import type { IndexBlocks } from "./index/index-blocks.ts";
import type { BlockReload, IndexLoadInput, IndexReload, IndexReloadInput, IndexScanInput } from "./index/index-jobs.ts";
import type { SqlPartInput, SqlPart } from "./sql/sql-jobs.ts";
import type { SerialTableParts } from "./table/serial-table.ts";
import type { TableDiff, TableDiffInput } from "./table/table-diff.ts";

/** Each job's input and output. */
export interface Jobs {
  "index.load": { readonly input: IndexLoadInput; readonly output: SerialTableParts };
  "index.reload": { readonly input: IndexReloadInput; readonly output: IndexReload | BlockReload };
  "index.scan": { readonly input: IndexScanInput; readonly output: IndexBlocks | undefined };
  "crl.share": { readonly input: CrlShareInput; readonly output: CrlShareDone };
  "sql.part": { readonly input: SqlPartInput; readonly output: SqlPart };
  "table.diff": { readonly input: TableDiffInput; readonly output: TableDiff };
}

export type JobName = keyof Jobs;

/** What a job gives back: its output, and what to transfer with it (tables need nothing: they are in shared memory). */
export interface JobDone<O> {
  readonly output: O;
  readonly transfer?: readonly Transferable[];
}

type JobFunction<J extends JobName> = (input: Jobs[J]["input"]) => JobDone<Jobs[J]["output"]> | Promise<JobDone<Jobs[J]["output"]>>;

/** Each job's function, imported when a thread first runs it (pg only where an SQL store is loaded). */
export const JOBS: { readonly [J in JobName]: () => Promise<JobFunction<J>> } = {
  "index.load": async () => (await import("./index/index-jobs.ts")).loadIndexJob,
  "index.reload": async () => (await import("./index/index-jobs.ts")).reloadIndexJob,
  "index.scan": async () => (await import("./index/index-jobs.ts")).scanIndexJob,
  "crl.share": async () => (await import("./crl/crl-jobs.ts")).crlShareJob,
  "sql.part": async () => (await import("./sql/sql-jobs.ts")).sqlPartJob,
  "table.diff": async () => (await import("./table/table-diff.ts")).tableDiffJob,
};
