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
 * are. Throws when the transfer broke (the writer reports why). While it waits, it touches the pages
 * just ahead of the writer (see prefault), up to PREFAULT_AHEAD octets past what is filled.
 */
export function awaitArrival(arriving: ArrivingBytes, end: number): Arrived {
  const { progress } = arriving;
  for (;;) {
    const state = Atomics.load(progress, STATE);
    const filled = Atomics.load(progress, FILLED);
    if (state === BROKEN) throw new Error("the transfer broke off");
    if (filled >= end || state === COMPLETE) return { filled, ended: state === COMPLETE };
    if (!prefault(arriving, filled)) Atomics.wait(progress, FILLED, filled, RECHECK_MS);
  }
}

/** How far past the filled octets a waiting reader touches pages. */
const PREFAULT_AHEAD = 8 << 20;
/** Pages touched per turn, between looks at the progress. */
const PREFAULT_BATCH = 64;
const PAGE = 4096;
/** Per reader (the ArrivingBytes it was posted): the octet up to which pages are touched, and a word view of the buffer. */
const touched = new WeakMap<Int32Array, { upTo: number; words: Int32Array }>();

/**
 * Makes the kernel back a batch of the buffer's pages ahead of the writer, so that the writer's
 * copies do not take the page faults (first touches of fresh memory: ~170 ms of a 45 MB body on the
 * machine measured) while the reader has nothing to do. Each page is touched by an atomic add of 0
 * to one word: a write as far as the kernel is concerned, which changes nothing, whatever the writer
 * stores there meanwhile. Returns false when there is nothing left to touch (then the reader waits).
 */
function prefault(arriving: ArrivingBytes, filled: number): boolean {
  let state = touched.get(arriving.progress);
  if (state === undefined) {
    const { buffer, byteOffset, byteLength } = arriving.bytes;
    const aligned = Math.ceil(byteOffset / 4) * 4;
    state = { upTo: 0, words: new Int32Array(buffer, aligned, Math.floor((byteLength - (aligned - byteOffset)) / 4)) };
    touched.set(arriving.progress, state);
  }
  const { words } = state;
  const limit = Math.min(words.length * 4, filled + PREFAULT_AHEAD);
  let at = Math.max(state.upTo, Math.ceil(filled / PAGE) * PAGE);
  if (at >= limit) return false;
  for (let n = 0; n < PREFAULT_BATCH && at < limit; n++, at += PAGE) Atomics.add(words, at / 4, 0);
  state.upTo = at;
  return true;
}
