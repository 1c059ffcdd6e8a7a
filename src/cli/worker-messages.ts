/**
 * What the supervisor (supervisor.ts) and its workers (serve-worker.ts) say to each other. A module
 * of its own so that a worker imports these without the supervisor's code, and with it the
 * configuration parser: the supervisor validates the file and hands every worker the parsed
 * configuration (a structured clone), so a worker never loads yaml and zod (~4 MiB of each worker
 * process's or thread's memory; issue 18).
 */
import type { Config } from "../config/schema.ts";
import type { PreloadedTables } from "../status/source-supply.ts";

/** Supervisor → worker control messages (the ask channel carries the rest). */
export type ControlMessage =
  | { readonly vouch: "start"; readonly configFile: string; readonly config: Config; readonly worker: number; readonly tables?: PreloadedTables | undefined }
  | { readonly vouch: "stop" };

/** Worker → supervisor: started, or could not start (`error` is one line naming file and field). */
export type WorkerReport = { readonly vouch: "ready" } | { readonly vouch: "failed"; readonly error: string };

/** The ask-channel kind of a reload; the payload is the parsed configuration (a Config), the answer a ReloadOutcome. */
export const RELOAD_KIND = "vouch.reload";
