/**
 * Bytes that arrive in shared memory while another thread reads them: a download written by one
 * loading thread and walked by another as it comes (crl/crl-arriving.ts), so that parsing a CRL
 * fetched over HTTP overlaps its download instead of following it. The writer publishes how far the
 * bytes are filled, then whether they are complete; the reader blocks (Atomics.wait: loading
 * threads only, never the serving thread) until what it needs has arrived.
 */
import { sharedMemoryBuffer } from "./shared-memory.ts";

/** The buffer (its whole capacity) and its progress: [filled octets, state]. Posted as is to the reading thread. */
export interface ArrivingBytes {
  readonly bytes: Buffer;
  readonly progress: Int32Array;
}

const FILLED = 0;
/** 0 while bytes still arrive. */
const STATE = 1;
const COMPLETE = 1;
const BROKEN = 2;
/** A reader re-checks at least this often (ms): a wake-up between its check and its wait is never lost for longer. */
const RECHECK_MS = 20;

/** Room for `capacity` octets (at most 2^31 - 1: the progress is an Int32). */
export function arrivingBytes(capacity: number): ArrivingBytes {
  if (capacity > 0x7fffffff) throw new RangeError(`${capacity} octets is more than an arriving buffer holds`);
  return { bytes: sharedMemoryBuffer(capacity), progress: new Int32Array(new SharedArrayBuffer(8)) };
}

/** Writer: the bytes are filled up to `filled`. */
export function arrivedUpTo(arriving: ArrivingBytes, filled: number): void {
  Atomics.store(arriving.progress, FILLED, filled);
  Atomics.notify(arriving.progress, FILLED);
}

/** Writer: no more bytes will come; `complete` says whether they are all there (else the transfer broke). */
export function arrivalEnded(arriving: ArrivingBytes, complete: boolean): void {
  Atomics.store(arriving.progress, STATE, complete ? COMPLETE : BROKEN);
  Atomics.notify(arriving.progress, FILLED);
}

/** What a reader found: the octets filled, and whether that is all of them. */
export interface Arrived {
  readonly filled: number;
  readonly ended: boolean;
}

/**
 * Reader: blocks until the bytes are filled up to `end` or no more will come, and says how far they
 * are. Throws when the transfer broke (the writer reports why).
 */
export function awaitArrival(arriving: ArrivingBytes, end: number): Arrived {
  const { progress } = arriving;
  for (;;) {
    const state = Atomics.load(progress, STATE);
    const filled = Atomics.load(progress, FILLED);
    if (state === BROKEN) throw new Error("the transfer broke off");
    if (filled >= end || state === COMPLETE) return { filled, ended: state === COMPLETE };
    Atomics.wait(progress, FILLED, filled, RECHECK_MS);
  }
}
