/**
 * One conditional HTTP(S) GET of a CRL into a file: If-None-Match / If-Modified-Since from the last
 * answer, so an unchanged CRL costs one round trip (304); the body is streamed to disk (a 1M-entry
 * CRL is ~45 MB, and never has to be held whole on the serving thread), bounded in size and time,
 * and hashed on the way for the rollback check.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { FetchError, type FetchLimits, type FetchOutcome, type Validators } from "./fetch-types.ts";

/** Redirects followed: a CA's http distribution point may point at its https one, or at a mirror. */
const MAX_REDIRECTS = 3;

/** A 200 whose declared size was over what the caller reads itself: dropped after its head. */
export interface LargeAnswer {
  readonly kind: "large";
  readonly validators: Validators;
}

/**
 * GETs `url` into `file` (created or truncated). Resolves `not-modified` on 304, `fetched` with the
 * body's SHA-256 and the answer's validators on 200. Rejects with a FetchError naming the problem on any
 * other status, a body over `limits.maxBytes`, a fetch over `limits.timeoutMs`, or a network error;
 * `file` is removed then. `cancel` stops it (the source closes). With `readHereUpTo`, a 200 that
 * declares more octets is not read: it resolves `large` (url-feed.ts has the loading threads fetch it).
 */
export async function httpFetch(url: URL, file: string, validators: Validators, limits: FetchLimits, cancel?: AbortSignal): Promise<FetchOutcome>;
export async function httpFetch(url: URL, file: string, validators: Validators, limits: FetchLimits, cancel: AbortSignal | undefined, readHereUpTo: number): Promise<FetchOutcome | LargeAnswer>;
export async function httpFetch(url: URL, file: string, validators: Validators, limits: FetchLimits, cancel?: AbortSignal, readHereUpTo = Number.POSITIVE_INFINITY): Promise<FetchOutcome | LargeAnswer> {
  try {
    return await withinLimits(limits, cancel, async (signal) => {
      const answer = await openCrlResponse(url, validators, limits, signal);
      if (answer.kind === "not-modified") return answer;
      if (answer.declaredBytes !== undefined && answer.declaredBytes > readHereUpTo) {
        answer.response.destroy();
        return { kind: "large", validators: answer.validators } as const;
      }
      const sha256 = await bodyIntoFile(answer, file, limits, signal);
      return { kind: "fetched", sha256, validators: answer.validators } as const;
    });
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}

/**
 * Runs `fetch` with a signal that aborts at `limits.timeoutMs` or with `cancel`, and words its
 * failure as a FetchError ("cancelled", "no complete answer within …", or the fetch's own problem).
 */
export async function withinLimits<T>(limits: FetchLimits, cancel: AbortSignal | undefined, fetch: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = cancel === undefined ? timeout : AbortSignal.any([timeout, cancel]);
  try {
    return await fetch(signal);
  } catch (error) {
    if (cancel?.aborted === true) throw new FetchError("cancelled", { cause: error });
    if (timeout.aborted) throw new FetchError(`no complete answer within ${limits.timeoutMs} ms`, { cause: error });
    throw error instanceof FetchError ? error : new FetchError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** A conditional GET answered: 304, or 200 with the body still to read (and the size it declares, if any). */
export type CrlResponse =
  | { readonly kind: "not-modified" }
  | { readonly kind: "body"; readonly response: IncomingMessage; readonly validators: Validators; readonly declaredBytes: number | undefined };

/**
 * GETs `url` (following up to MAX_REDIRECTS redirects to http(s) URLs), conditionally on
 * `validators`, and resolves once the answer's head is in: `not-modified` on 304, `body` on 200.
 * Rejects with a FetchError on any other status or a declared size over `limits.maxBytes`. The
 * caller reads or destroys a `body` answer's response.
 */
export async function openCrlResponse(url: URL, validators: Validators, limits: FetchLimits, signal: AbortSignal, redirects = 0): Promise<CrlResponse> {
  const response = await get(url, validators, limits, signal);
  const status = response.statusCode ?? 0;
  if (status === 304) {
    response.resume();
    return { kind: "not-modified" };
  }
  if (status >= 300 && status < 400 && response.headers.location !== undefined) {
    response.resume();
    if (redirects >= MAX_REDIRECTS) throw new FetchError(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(response.headers.location, url);
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new FetchError(`redirected to ${next.protocol} URL`);
    return openCrlResponse(next, validators, limits, signal, redirects + 1);
  }
  if (status !== 200) {
    response.resume();
    throw new FetchError(`HTTP ${status}`);
  }
  const length = response.headers["content-length"];
  const declared = length === undefined ? undefined : Number(length);
  if (declared !== undefined && declared > limits.maxBytes) {
    response.destroy();
    throw new FetchError(`the CRL is ${declared} bytes, over the limit of ${limits.maxBytes}`);
  }
  return { kind: "body", response, validators: { etag: header(response, "etag"), lastModified: header(response, "last-modified") }, declaredBytes: Number.isSafeInteger(declared) ? declared : undefined };
}

/** Streams a 200 answer's body into `file`, bounded by `limits.maxBytes`; resolves its SHA-256 (hex). */
export async function bodyIntoFile(answer: Extract<CrlResponse, { kind: "body" }>, file: string, limits: FetchLimits, signal: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) return done(new FetchError(`the CRL is over the limit of ${limits.maxBytes} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(answer.response, counted, createWriteStream(file), { signal });
  if (bytes === 0) throw new FetchError("empty body");
  return hash.digest("hex");
}

function get(url: URL, validators: Validators, limits: FetchLimits, signal: AbortSignal): Promise<IncomingMessage> {
  const headers: Record<string, string> = {};
  if (validators.etag !== undefined) headers["if-none-match"] = validators.etag;
  if (validators.lastModified !== undefined) headers["if-modified-since"] = validators.lastModified;
  return requestCrl(url, headers, limits, signal);
}

/**
 * Sends a GET for the CRL at the http(s) `url` with `headers` beside the Accept of a CRL, over
 * `limits.ca` where set; resolves once the answer's head is in, whatever its status.
 */
export function requestCrl(url: URL, headers: Readonly<Record<string, string>>, limits: FetchLimits, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = { headers: { accept: "application/pkix-crl, */*", ...headers }, signal, ...(limits.ca === undefined ? {} : { ca: limits.ca }) };
    // Loaded at the first fetch, not by every process that has no CRL URL.
    const request = url.protocol === "https:" ? process.getBuiltinModule("node:https").request(url, options, resolve) : process.getBuiltinModule("node:http").request(url, options, resolve);
    request.on("error", reject);
    request.end();
  });
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}
