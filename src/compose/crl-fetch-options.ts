import { access, constants, mkdir, readFile } from "node:fs/promises";
import type { CrlFetchConfig } from "../config/crl-source-schema.ts";
import { ConfigError } from "../errors.ts";
import type { CrlFetchOptions } from "../status/crl/crl-loader.ts";

/** A `fetch` block (a crl source's, or `trust.crlFetch`) as the CRL source takes it: the state folder made (and writable), the CA bundle read. */
export async function crlFetchOptions(fetch: CrlFetchConfig, field = "fetch"): Promise<CrlFetchOptions> {
  try {
    await mkdir(fetch.stateFolder, { recursive: true });
    await access(fetch.stateFolder, constants.W_OK);
  } catch (error) {
    throw new ConfigError(`${field}.stateFolder`, `cannot be used: ${error instanceof Error ? error.message : String(error)}`, { file: fetch.stateFolder });
  }
  let ca: Buffer | undefined;
  if (fetch.caFile !== undefined) {
    try {
      ca = await readFile(fetch.caFile);
    } catch (error) {
      throw new ConfigError(`${field}.caFile`, `cannot be read: ${error instanceof Error ? error.message : String(error)}`, { file: fetch.caFile });
    }
  }
  return {
    stateFolder: fetch.stateFolder,
    schedule: { marginMs: fetch.margin, maxIntervalMs: fetch.maxInterval, retryFirstMs: fetch.retryInterval, retryMaxMs: fetch.maxRetryInterval },
    limits: { timeoutMs: fetch.timeout, maxBytes: fetch.maxBytes, ca },
  };
}
