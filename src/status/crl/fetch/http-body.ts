/**
 * A CRL fetched over HTTP(S) into shared memory, on a loading thread, while another walks its
 * entries as they arrive (crl-jobs.ts): the serving thread never handles the body's chunks (a 1M-entry CRL is ~45 MB, ~700
 * socket reads), never touches its pages (first-touch faults of fresh memory cost ~5 ms per MB on
 * the machine measured) and never holds a reference to it, so its memory goes with the loading
 * threads instead of waiting for the serving heap's next GC.
 */
import { arrivalEnded, arrivedUpTo, arrivingBytes, type ArrivingBytes } from "../../files/arriving-bytes.ts";
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
 * shared memory, handed to `onArriving` as soon as it is made (before its first octet), for another
 * thread to read as it fills (`onFilled` is told after each read, on this thread) (files/arriving-bytes.ts): it is told when the body is complete, or
 * broke off. Rejects with a FetchError on a status other than 200, a body over `limits.maxBytes` or
 * longer or shorter than it declared, an empty body, a network error, or a fetch over `limits.timeoutMs`.
 */
export function httpFetchIntoMemory(
  url: URL,
  limits: FetchLimits,
  onArriving: (arriving: ArrivingBytes) => void,
  onFilled: (bytes: Buffer, filled: number) => void,
  cancel?: AbortSignal,
): Promise<FetchedBody> {
  return withinLimits(limits, cancel, async (signal) => {
    const answer = await openCrlResponse(url, {}, limits, signal);
    if (answer.kind === "not-modified") throw new FetchError("HTTP 304 to a GET that asked for the CRL whatever its version");
    // Sized once: from Content-Length, or else up to the limit (pages never written cost nothing).
    const arriving = arrivingBytes(answer.declaredBytes ?? Math.min(limits.maxBytes, 0x7fffffff));
    onArriving(arriving);
    let complete = false;
    try {
      const bytes = await bodyIntoMemory(answer, arriving, limits, onFilled);
      complete = true;
      return { bytes, validators: answer.validators };
    } finally {
      arrivalEnded(arriving, complete);
    }
  });
}

async function bodyIntoMemory(answer: Extract<CrlResponse, { kind: "body" }>, arriving: ArrivingBytes, limits: FetchLimits, onFilled: (bytes: Buffer, filled: number) => void): Promise<Buffer> {
  const declared = answer.declaredBytes;
  const { bytes } = arriving;
  let filled = 0;
  let read: ArrayBufferLike | undefined;
  for await (const chunk of answer.response as AsyncIterable<Buffer>) {
    if (filled + chunk.length > bytes.length) {
      answer.response.destroy();
      throw new FetchError(declared === undefined ? `the CRL is over the limit of ${limits.maxBytes} bytes` : `the body is longer than the ${declared} bytes it declared`);
    }
    chunk.copy(bytes, filled);
    filled += chunk.length;
    arrivedUpTo(arriving, filled);
    onFilled(bytes, filled);
    if (chunk.buffer !== read) {
      release(read);
      read = chunk.buffer;
    }
  }
  release(read);
  if (filled === 0) throw new FetchError("empty body");
  if (declared !== undefined && filled < declared) throw new FetchError(`the body ended after ${filled} of the ${declared} bytes it declared`);
  return bytes.subarray(0, filled);
}

/**
 * Frees a socket read's memory now, once every slice of it was copied (chunks come in order, so a
 * chunk of another read means the last one is done). Left to the garbage collector, the ~700 reads
 * of a 45 MB body all stayed allocated until the thread ended (no GC ran: the JS garbage per read is
 * small), and the allocator kept the ~60 MiB resident afterwards, in the arena of a thread that is
 * gone. Detaching the ArrayBuffer drops its memory at once. Reads Node does not let go of (its
 * pooled, untransferable buffers) are left as they are.
 */
function release(read: ArrayBufferLike | undefined): void {
  if (!(read instanceof ArrayBuffer) || read.detached) return;
  try {
    read.transfer(0);
  } catch {
    // untransferable: the collector frees it
  }
}
