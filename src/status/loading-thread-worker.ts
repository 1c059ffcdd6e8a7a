/**
 * The entry of a loading thread (loading-thread.ts): runs each job it is sent, one at a time, and
 * answers with its output, transferring the arrays the job names, or with its error (a
 * ConfigError's field and file kept). A job's module is imported when the thread first runs it, so a
 * thread loads only what its jobs need (pg only where an SQL store is loaded).
 */
import type { MessagePort } from "node:worker_threads";
import { parentPort, workerData } from "node:worker_threads";
import { ConfigError } from "../errors.ts";
import { FetchError } from "./crl/fetch/fetch-types.ts";
import type { JobReply, JobRequest } from "./loading-thread.ts";
import { JOBS, type JobDone } from "./loading-jobs.ts";
import { setThisThreadNiceness } from "./thread-priority.ts";

function serve(port: MessagePort, options: { readonly niceness?: number | undefined }): void {
  if (options.niceness !== undefined) setThisThreadNiceness(options.niceness);
  port.on("message", (request: JobRequest) => {
    void run(request).then(
      (done) => port.postMessage({ id: request.id, output: done.output } satisfies JobReply, [...(done.transfer ?? [])]),
      (error: unknown) => port.postMessage({ id: request.id, error: describe(error) } satisfies JobReply),
    );
  });
}

async function run(request: JobRequest): Promise<JobDone<unknown>> {
  const job = (await JOBS[request.job]()) as (input: unknown) => JobDone<unknown> | Promise<JobDone<unknown>>;
  return job(request.input);
}

function describe(error: unknown): Extract<JobReply, { error: object }>["error"] {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ConfigError) return { message, field: error.field, file: error.file };
  return error instanceof FetchError ? { message, fetch: true } : { message };
}

serve(parentPort!, workerData as { niceness?: number });
