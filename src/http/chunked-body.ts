/**
 * An incremental decoder of the chunked transfer coding (RFC 9112 §7.1), fed the bytes of a
 * connection as they arrive. Chunk extensions and trailer fields are read and dropped. The decoded
 * size is bounded as it grows, so a body that would exceed the limit is refused before it is read.
 */

/** What feeding bytes gave: how many were consumed, and whether the body is complete. */
export type ChunkedProgress = { readonly consumed: number; readonly done: boolean } | { readonly error: "too large" | "malformed" };

const LINE_LIMIT = 1024;

export class ChunkedBody {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #size = 0;
  #state: "size" | "data" | "data-end" | "trailer" = "size";
  #remaining = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The decoded body so far (the whole body once `feed` said done). */
  get body(): Buffer {
    return this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
  }

  /** Decodes from `bytes[offset..]`; the caller keeps what was not consumed and feeds it again with more. */
  feed(bytes: Buffer, offset: number): ChunkedProgress {
    let at = offset;
    while (at < bytes.length) {
      if (this.#state === "data") {
        const take = Math.min(this.#remaining, bytes.length - at);
        this.#parts.push(bytes.subarray(at, at + take));
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = "data-end";
        continue;
      }
      if (this.#state === "data-end") {
        if (bytes.length - at < 2) break;
        if (bytes[at] !== 0x0d || bytes[at + 1] !== 0x0a) return { error: "malformed" };
        at += 2;
        this.#state = "size";
        continue;
      }
      const lineEnd = bytes.indexOf(0x0a, at);
      if (lineEnd === -1) {
        if (bytes.length - at > LINE_LIMIT) return { error: "malformed" };
        break;
      }
      if (lineEnd - at > LINE_LIMIT || bytes[lineEnd - 1] !== 0x0d || lineEnd === at) return { error: "malformed" };
      const line = bytes.toString("latin1", at, lineEnd - 1);
      at = lineEnd + 1;
      if (this.#state === "trailer") {
        if (line === "") return { consumed: at - offset, done: true };
        continue;
      }
      const semicolon = line.indexOf(";");
      const hex = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) return { error: "malformed" };
      const size = Number.parseInt(hex, 16);
      if (size === 0) {
        this.#state = "trailer";
        continue;
      }
      if (this.#size + size > this.#maxBytes) return { error: "too large" };
      this.#size += size;
      this.#remaining = size;
      this.#state = "data";
    }
    return { consumed: at - offset, done: false };
  }
}
