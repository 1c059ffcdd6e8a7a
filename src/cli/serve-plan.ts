/**
 * What `vouch serve` decides before it builds anything, shared with `vouch check` so that both judge
 * a configuration the same way: the file read and validated, the number of workers, and the checks
 * that depend on how the workers run (several workers need fixed ports; worker threads refuse
 * PKCS#11 signers).
 */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parseConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { signersOf } from "../config/signers-of.ts";
import { ConfigError } from "../errors.ts";

/** How `vouch serve` runs (its command-line options). */
export interface ServeOptions {
  /**
   * Worker processes sharing the ports (SO_REUSEPORT). Default: one per CPU
   * (`os.availableParallelism()`), or 1 when a responder listens on port 0, which cannot be shared.
   */
  readonly workers?: number | undefined;
  /** The workers are threads of this process, not processes of their own (`--worker-threads`). */
  readonly workerThreads?: boolean | undefined;
  /** Where to write the pid that `vouch reload` signals (removed at a clean exit). */
  readonly pidFile?: string | undefined;
}

export interface ServePlan {
  readonly config: Config;
  readonly workers: number;
  /** Several workers, as threads of this process. */
  readonly threads: boolean;
  /** What a reload's configuration must also pass, beyond its schema (throws ConfigError). */
  readonly checkReload?: ((config: Config) => void) | undefined;
}

/**
 * Reads and validates `configFile` for a serve with `options`. Throws ConfigError naming the file
 * (and the field) when the file cannot be read, is invalid, or cannot run as asked.
 */
export async function planServe(configFile: string, options: ServeOptions): Promise<ServePlan> {
  let text: string;
  try {
    text = await readFile(configFile, "utf8");
  } catch (error) {
    throw new ConfigError("", `cannot read the configuration file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { file: configFile, cause: error });
  }
  const config = parseConfig(text, configFile);
  const zeroPort = config.responders.findIndex((responder) => responder.listen.port === 0);
  if (options.workers !== undefined && options.workers > 1 && zeroPort !== -1) {
    throw new ConfigError(`responders[${zeroPort}].listen.port`, "several workers need fixed ports (0 would give each worker its own)", { file: configFile });
  }
  const workers = options.workers ?? (zeroPort === -1 ? availableParallelism() : 1);
  const threads = workers > 1 && options.workerThreads === true;
  const checkReload = threads ? (checked: Config) => refusePkcs11OnWorkerThreads(checked, configFile) : undefined;
  checkReload?.(config);
  return { config, workers, threads, checkReload };
}

/**
 * A start-up error as `vouch serve` reports it: the configuration file first, then a data file at
 * fault (an index, a CRL) in the message.
 */
export function namingConfigFile(error: unknown, configFile: string): unknown {
  if (error instanceof ConfigError && error.file !== configFile) {
    const message = error.file === undefined ? error.message : `${error.file}: ${error.message}`;
    return new ConfigError(error.field, message, { file: configFile, cause: error.cause });
  }
  return error;
}

/**
 * A PKCS#11 library is initialised once per process, and bringing back a lost token means
 * finalising it (pkcs11-module.ts): on one worker thread that would pull the library out from under
 * the others' signatures. Token signers therefore run in worker processes, each owning its library.
 */
function refusePkcs11OnWorkerThreads(config: Config, configFile: string): void {
  for (const [index, responder] of config.responders.entries()) {
    for (const [issuer, candidate] of responder.issuers.entries()) {
      const token = signersOf(candidate).find((signer) => signer.config.pkcs11 !== undefined);
      if (token !== undefined) {
        throw new ConfigError(`responders[${index}].issuers[${issuer}].${token.field}.pkcs11`, "PKCS#11 signers need worker processes: leave out --worker-threads", { file: configFile });
      }
    }
  }
}
