import type { Socket } from "node:net";
import { isPromise, type Awaitable } from "../awaitable.ts";
import type { Reply } from "./reply.ts";
import { appendBytes } from "./byte-queue.ts";
import { ChunkedBody } from "./chunked-body.ts";
import { isRefusal, parseRequestHead, type RequestHead } from "./request-head.ts";
import { textReply, writeReply, type AfterReply } from "./write-reply.ts";

/** What the listener decides once a request's head is known. */
export type Prepared =
  /** Answer at once; `close` when the connection must not be reused (e.g. a body left unread). */
  | { readonly reply: Reply; readonly close?: boolean; readonly release?: () => void }
  /** Read a body of at most `limit` octets, then `run` produces the reply. */
  | { readonly limit: number; readonly run: (body: Buffer) => Awaitable<Reply>; readonly tooLarge: () => Reply; readonly release: () => void };

/** What a connection needs from its listener. */
export interface ConnectionHost {
  readonly maxHeadBytes: number;
  readonly timeouts: { readonly headersMs: number; readonly requestMs: number; readonly keepAliveMs: number };
  /** The listener is closing: finish the request in progress, then close. */
  readonly closing: boolean;
  prepare(head: RequestHead, socket: Socket): Prepared;
  /** Called once the connection is gone. */
  forget(connection: Connection): void;
}

/** More than this many unprocessed octets (a client pipelining without reading) pauses reading. */
const MAX_BUFFERED = 256 * 1024;
/**
 * More than this many octets of replies the socket has not yet handed to the kernel stops reading
 * requests until they drain: a client that pipelines and never reads then holds about this much (and
 * the kernel's buffers) instead of every reply it asked for (issue 12 item 9: 150,000 pipelined GETs
 * grew the process by 316 MiB). Past the request deadline still blocked, the connection is closed.
 */
export const MAX_UNSENT = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
const INTERNAL_ERROR = textReply(500, "internal error\n");

/**
 * One HTTP/1.1 connection (RFC 9112): requests are read and answered strictly one at a time, in
 * order (pipelined requests wait in the buffer, which bounds what a client can make the server hold).
 * Deadlines are not timers per request: the listener's sweep calls `expire` about once a second.
 */
export class Connection {
  /** Its place in the listener's OpenConnections. */
  listIndex = -1;
  readonly #socket: Socket;
  readonly #host: ConnectionHost;
  #buffer: Buffer | undefined;
  #searchFrom = 0;
  /** waiting: no byte of a request yet; head/body: reading one; busy: producing its reply. */
  #phase: "waiting" | "head" | "body" | "busy" | "closed" = "waiting";
  #deadline: number;
  #head: RequestHead | undefined;
  #prepared: Extract<Prepared, { run: unknown }> | undefined;
  #chunked: ChunkedBody | undefined;
  #peerEnded = false;
  /** Replies wait to be sent (MAX_UNSENT): nothing is read until the socket drains. */
  #blocked = false;
  /**
   * Plain TCP: a last reply after which nothing is left unread may close the socket at once. A TLS
   * connection always ends with its close_notify alert (socket.end), which clients expect.
   */
  readonly #plain: boolean;
  /**
   * Nagle's algorithm is off (TCP_NODELAY). A connection's first reply, alone in flight, is sent at
   * once either way; a later small write can wait for the client's delayed ACK (40 ms) while Nagle is
   * on. So it is turned off before anything is written on a connection that is kept, and a
   * connection closed after its only reply (HTTP/1.0, `Connection: close`) spares the setsockopt.
   */
  #noDelay: boolean;

  constructor(socket: Socket, host: ConnectionHost) {
    this.#socket = socket;
    this.#host = host;
    this.#deadline = Date.now() + host.timeouts.headersMs;
    this.#plain = (socket as Socket & { encrypted?: boolean }).encrypted !== true;
    this.#noDelay = !this.#plain;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.#onClose());
  }

  /** True when no request is in progress or partly received: closing the socket loses nothing. */
  get idle(): boolean {
    return this.#phase === "waiting" && this.#buffer === undefined;
  }

  /** Octets of replies written but not yet taken by the kernel. */
  get unsentBytes(): number {
    return this.#socket.writableLength;
  }

  /** Whether reading is stopped until the client takes its replies. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Closes the connection when its current deadline has passed; a partly received request gets 408. */
  expire(now: number): void {
    if (this.#phase === "busy" || this.#phase === "closed" || now < this.#deadline) return;
    if (this.#phase === "waiting") this.#socket.destroy();
    else this.#refuse(textReply(408, "request timeout\n"));
  }

  /**
   * Closes the connection now if that loses no request in progress (the listener is closing). One
   * whose client does not read its replies is closed too: the requests it pipelined behind them are
   * not begun, and a stop does not wait on a client that may never read.
   */
  closeIfIdle(): void {
    if (this.idle || this.#blocked) this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === "closed") return;
    this.#buffer = appendBytes(this.#buffer, chunk);
    if (this.#phase === "busy" || this.#blocked) {
      if (this.#buffer.length > MAX_BUFFERED) this.#socket.pause();
      return;
    }
    this.#advance();
  }

  #onEnd(): void {
    this.#peerEnded = true;
    // Nothing more will come: a request still incomplete never will be. A connection whose last reply
    // already ended our side is left alone: a second end() costs an Error with its stack trace.
    if (this.#phase !== "busy" && !this.#socket.writableEnded) this.#socket.end();
  }

  #onClose(): void {
    const prepared = this.#prepared;
    this.#phase = "closed";
    this.#prepared = undefined;
    this.#buffer = undefined;
    if (prepared !== undefined) prepared.release();
    this.#host.forget(this);
  }

  /** Reads as far as the buffered bytes go: heads, bodies, and any pipelined requests after them. */
  #advance(): void {
    while (!this.#blocked && (this.#phase === "waiting" || this.#phase === "head" || this.#phase === "body")) {
      const buffer = this.#buffer;
      if (this.#phase !== "body") {
        if (buffer === undefined) return;
        if (this.#phase === "waiting") {
          this.#phase = "head";
          this.#deadline = Date.now() + this.#host.timeouts.headersMs;
        }
        const parsed = parseRequestHead(buffer, this.#host.maxHeadBytes, this.#searchFrom);
        if (parsed === undefined) {
          this.#searchFrom = buffer.length;
          return;
        }
        this.#searchFrom = 0;
        if (isRefusal(parsed)) {
          this.#refuse(textReply(parsed.refused, `${parsed.reason}\n`));
          return;
        }
        this.#consume(parsed.length);
        this.#head = parsed;
        const prepared = this.#host.prepare(parsed, this.#socket);
        if ("reply" in prepared) {
          const hasBody = parsed.chunked || parsed.contentLength > 0;
          prepared.release?.();
          // A body left unread: the connection lingers after the reply, so that the client reads it.
          this.#respond(prepared.reply, parsed.keepAlive && prepared.close !== true && !hasBody, !hasBody);
          continue;
        }
        this.#prepared = prepared;
        if (parsed.contentLength > prepared.limit) {
          this.#tooLarge();
          return;
        }
        this.#chunked = parsed.chunked ? new ChunkedBody(prepared.limit) : undefined;
        this.#phase = "body";
        this.#deadline = Date.now() + this.#host.timeouts.requestMs;
        const needed = parsed.chunked || parsed.contentLength > 0;
        if (needed && parsed.expectContinue && (this.#buffer === undefined || parsed.chunked || this.#buffer.length < parsed.contentLength)) {
          this.#keepNoDelay();
          this.#socket.write(CONTINUE);
        }
        continue;
      }
      const body = this.#takeBody(buffer);
      if (body === undefined) return;
      this.#run(body);
    }
  }

  /** The body once complete (consumed from the buffer), else undefined; refuses a bad one. */
  #takeBody(buffer: Buffer | undefined): Buffer | undefined {
    const head = this.#head!;
    if (head.contentLength === 0 && !head.chunked) return EMPTY;
    if (buffer === undefined) return undefined;
    if (this.#chunked !== undefined) {
      const progress = this.#chunked.feed(buffer, 0);
      if ("error" in progress) {
        if (progress.error === "too large") this.#tooLarge();
        else this.#refuse(textReply(400, "malformed chunked body\n"));
        return undefined;
      }
      this.#consume(progress.consumed);
      return progress.done ? this.#chunked.body : undefined;
    }
    if (buffer.length < head.contentLength) return undefined;
    // Usually the body is all that is left: no need for another view of it.
    const body = buffer.length === head.contentLength ? buffer : buffer.subarray(0, head.contentLength);
    this.#consume(head.contentLength);
    return body;
  }

  /**
   * Produces the reply to a complete request. A reply that is ready at once (the usual case) is
   * written before returning, and `#advance`'s loop goes on to any pipelined request; a reply still
   * to come is written when it settles, and reading resumes from there.
   */
  #run(body: Buffer): void {
    const prepared = this.#prepared!;
    const keepAlive = this.#head!.keepAlive;
    this.#phase = "busy";
    this.#chunked = undefined;
    let reply: Awaitable<Reply>;
    try {
      reply = prepared.run(body);
    } catch {
      reply = INTERNAL_ERROR;
    }
    if (!isPromise(reply)) {
      this.#finish(prepared, reply, keepAlive && reply !== INTERNAL_ERROR);
      return;
    }
    void reply.then(
      (settled) => this.#finishAndGoOn(prepared, settled, keepAlive),
      () => this.#finishAndGoOn(prepared, INTERNAL_ERROR, false),
    );
  }

  #finish(prepared: Extract<Prepared, { run: unknown }>, reply: Reply, keepAlive: boolean): void {
    if (this.#phase === "closed") return;
    this.#prepared = undefined;
    prepared.release();
    this.#respond(reply, keepAlive, true);
  }

  #finishAndGoOn(prepared: Extract<Prepared, { run: unknown }>, reply: Reply, keepAlive: boolean): void {
    this.#finish(prepared, reply, keepAlive);
    if (this.#phase === "waiting" && !this.#blocked) {
      if (this.#socket.isPaused()) this.#socket.resume();
      this.#advance();
    }
  }

  /** `allRead`: the request was read to its end (body included), so a last reply may close at once. */
  #respond(reply: Reply, keepAlive: boolean, allRead: boolean): void {
    const reuse = keepAlive && !this.#host.closing && !this.#peerEnded;
    // HTTP/1.0 and `Connection: close` clients (a connection per request) end here: with nothing
    // unread, the socket closes once the kernel has the reply (no shutdown, no wake-up for the client's FIN).
    const after: AfterReply = reuse ? "keep-alive" : allRead && this.#plain && this.#buffer === undefined ? "close" : "linger";
    if (reuse) this.#keepNoDelay();
    writeReply(this.#socket, reply, after, Math.max(1, Math.floor(this.#host.timeouts.keepAliveMs / 1000)));
    if (!reuse) {
      this.#phase = "closed";
      this.#buffer = undefined;
      return;
    }
    this.#phase = "waiting";
    this.#head = undefined;
    if (this.#socket.writableLength <= MAX_UNSENT) {
      this.#deadline = Date.now() + this.#host.timeouts.keepAliveMs;
      return;
    }
    // The client is not reading: read no more requests until it does, or close at the deadline.
    this.#blocked = true;
    this.#deadline = Date.now() + this.#host.timeouts.requestMs;
    this.#socket.pause();
    this.#socket.once("drain", this.#onDrain);
  }

  #keepNoDelay(): void {
    if (this.#noDelay) return;
    this.#noDelay = true;
    this.#socket.setNoDelay(true);
  }

  readonly #onDrain = (): void => {
    this.#blocked = false;
    if (this.#phase !== "waiting") return;
    this.#deadline = Date.now() + this.#host.timeouts.keepAliveMs;
    this.#socket.resume();
    this.#advance();
  };

  #tooLarge(): void {
    const prepared = this.#prepared!;
    this.#refuse(prepared.tooLarge());
  }

  /** Answers with an HTTP error and closes: the rest of what the client sent is not read. */
  #refuse(reply: Reply): void {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    prepared?.release();
    if (this.#socket.writable) writeReply(this.#socket, reply, "linger", 0);
    else this.#socket.destroy();
    this.#phase = "closed";
    this.#buffer = undefined;
  }

  #consume(length: number): void {
    const buffer = this.#buffer!;
    this.#buffer = length >= buffer.length ? undefined : buffer.subarray(length);
  }
}
