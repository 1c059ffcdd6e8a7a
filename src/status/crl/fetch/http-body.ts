/**
 * A CRL fetched over HTTP(S) into shared memory, on the loading thread that parses it
 * (crl-jobs.ts): the serving thread never handles the body's chunks (a 1M-entry CRL is ~45 MB, ~700
 * socket reads), never touches its pages (first-touch faults of fresh memory cost ~5 ms per MB on
 * the machine measured) and never holds a reference to it, so its memory goes with the loading
 * threads instead of waiting for the serving heap's next GC.
 */
import { sharedMemoryBuffer } from "../../files/shared-memory.ts";
import { openCrlResponse, withinLimits, type CrlResponse } from "./http-fetch.ts";
import { FetchError, type FetchLimits, type Validators } from "./fetch-types.ts";

/** A CRL's bytes as fetched, and what the answer said about its version. */
export interface FetchedBody {
  /** Over a SharedArrayBuffer. */
  readonly bytes: Buffer;
  readonly validators: Validators;
}

/**
 * GETs `url` (unconditionally: the serving thread asked whether it changed) and reads the body into
 * shared memory. Rejects with a FetchError on a status other than 200, a body over
 * `limits.maxBytes` or longer or shorter than it declared, an empty body, a network error, or a fetch
 * over `limits.timeoutMs`.
 */
export function httpFetchIntoMemory(url: URL, limits: FetchLimits, cancel?: AbortSignal): Promise<FetchedBody> {
  return withinLimits(limits, cancel, async (signal) => {
    const answer = await openCrlResponse(url, {}, limits, signal);
    if (answer.kind === "not-modified") throw new FetchError("HTTP 304 to a GET that asked for the CRL whatever its version");
    return { bytes: await bodyIntoMemory(answer, limits), validators: answer.validators };
  });
}

async function bodyIntoMemory(answer: Extract<CrlResponse, { kind: "body" }>, limits: FetchLimits): Promise<Buffer> {
  const declared = answer.declaredBytes;
  // Sized once: from Content-Length, or else up to the limit (pages never written cost nothing).
  const bytes = sharedMemoryBuffer(declared ?? limits.maxBytes);
  let filled = 0;
  for await (const chunk of answer.response as AsyncIterable<Buffer>) {
    if (filled + chunk.length > bytes.length) {
      answer.response.destroy();
      throw new FetchError(declared === undefined ? `the CRL is over the limit of ${limits.maxBytes} bytes` : `the body is longer than the ${declared} bytes it declared`);
    }
    chunk.copy(bytes, filled);
    filled += chunk.length;
  }
  if (filled === 0) throw new FetchError("empty body");
  if (declared !== undefined && filled < declared) throw new FetchError(`the body ended after ${filled} of the ${declared} bytes it declared`);
  return bytes.subarray(0, filled);
}
