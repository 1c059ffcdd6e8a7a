/**
 * Appends `chunk` to `pending` (the unread bytes of a connection) without copying everything again on
 * every chunk: the bytes live in a backing buffer that grows by doubling, so a request trickled in
 * one-byte writes costs O(n) copying, not O(n²). Views handed out earlier stay valid: bytes are only
 * ever written after the end of `pending`, never over what is before it.
 */
export function appendBytes(pending: Buffer | undefined, chunk: Buffer): Buffer {
  if (pending === undefined) return chunk;
  const backing = pending.buffer;
  const end = pending.byteOffset + pending.length;
  // Spare room right after `pending` in a backing buffer this function allocated.
  if (owned.has(backing) && end + chunk.length <= backing.byteLength && claimed.get(backing) === end) {
    chunk.copy(new Uint8Array(backing, end, chunk.length));
    claimed.set(backing, end + chunk.length);
    return Buffer.from(backing, pending.byteOffset, pending.length + chunk.length);
  }
  const length = pending.length + chunk.length;
  const grown = Buffer.allocUnsafeSlow(Math.max(4096, length * 2));
  pending.copy(grown, 0);
  chunk.copy(grown, pending.length);
  owned.add(grown.buffer);
  claimed.set(grown.buffer, length);
  return grown.subarray(0, length);
}

/** Backing buffers allocated here, and how far each has been written (nothing after that is in use). */
const owned = new WeakSet<ArrayBufferLike>();
const claimed = new WeakMap<ArrayBufferLike, number>();
