/**
 * How large a worker's young generation may grow (issue 18). V8 grows each of its two semi-spaces up
 * to 32 MiB under a connection-per-request load (64 MiB resident per worker, never given back);
 * keep-alive loads stay at 8 MiB by themselves. A scavenge costs about the same whatever the
 * semi-space size (it copies what survives: the requests in flight), so a cap trades memory for
 * more scavenges on that path: measured with --trace-gc, one connection per request, 4 MiB cost
 * ~4–13 µs of scavenging a request and 8 MiB ~3–6 µs (3.8 times as many scavenges; ~4 % of the
 * request's CPU); 16 MiB keeps ~20 MiB of the 32 and about half of that cost (bench/RESULTS.md).
 *
 * The supervisor itself, and `vouch serve --workers 1`, run with the flags Node was given: a
 * process cannot change its own heap once started. An operator's own `--max-semi-space-size`
 * (NODE_OPTIONS or node's command line) wins everywhere.
 */
import type { ResourceLimits } from "node:worker_threads";

const SEMI_SPACE_MIB = 16;
const FLAG = "--max-semi-space-size";

/** Whether the operator chose the young generation's size for every isolate of this process. */
function operatorChose(): boolean {
  const flags = [...process.execArgv, ...(process.env["NODE_OPTIONS"] ?? "").split(/\s+/)];
  return flags.some((flag) => flag === FLAG || flag.startsWith(`${FLAG}=`));
}

/** node's flags for a worker process: this process's own, with the young generation capped. */
export function workerExecArgv(): string[] {
  return operatorChose() ? process.execArgv : [...process.execArgv, `${FLAG}=${SEMI_SPACE_MIB}`];
}

/** The limits of a worker thread: its young generation capped (V8 sizes it as three semi-spaces). */
export function workerThreadLimits(): ResourceLimits {
  return operatorChose() ? {} : { maxYoungGenerationSizeMb: 3 * SEMI_SPACE_MIB };
}
