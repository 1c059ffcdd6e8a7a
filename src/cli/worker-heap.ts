/**
 * How large a worker's young generation may grow (issue 18). V8 grows each of its two semi-spaces up
 * to 32 MiB under a connection-per-request load (64 MiB resident per worker, never given back);
 * capped at 8 MiB a worker keeps ~20–30 MiB less resident under that load, and keep-alive loads
 * stay at 8 MiB by themselves. Measured in the same runs, the scavenges' own time per request and
 * the CPU per request did not move beyond the noise at 8 MiB; at 4 MiB the connection-per-request
 * path paid some 4–7 µs a request (~3–5 %), so 4 is left to the operator.
 *
 * The supervisor itself, and `vouch serve --workers 1`, run with the flags Node was given: a
 * process cannot change its own heap once started. An operator's own `--max-semi-space-size`
 * (NODE_OPTIONS or node's command line) wins everywhere.
 */
import type { ResourceLimits } from "node:worker_threads";

const SEMI_SPACE_MIB = 8;
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
