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
import type { FetchLimits, FetchOutcome, Validators } from "./fetch-types.ts";

/** Redirects followed: a CA's http distribution point may point at its https one, or at a mirror. */
const MAX_REDIRECTS = 3;

/**
 * GETs `url` into `file` (created or truncated). Resolves `not-modified` on 304, `fetched` with the
 * body's SHA-256 and the answer's validators on 200. Rejects with an Error naming the problem on any
 * other status, a body over `limits.maxBytes`, a fetch over `limits.timeoutMs`, or a network error;
 * `file` is removed then. `cancel` stops it (the source closes).
 */
export async function httpFetch(url: URL, file: string, validators: Validators, limits: FetchLimits, cancel?: AbortSignal): Promise<FetchOutcome> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = cancel === undefined ? timeout : AbortSignal.any([timeout, cancel]);
  try {
    return await fetchFollowing(url, file, validators, limits, signal, 0);
  } catch (error) {
    await rm(file, { force: true });
    if (cancel?.aborted === true) throw new Error("cancelled", { cause: error });
    if (timeout.aborted) throw new Error(`no complete answer within ${limits.timeoutMs} ms`, { cause: error });
    throw error;
  }
}

async function fetchFollowing(url: URL, file: string, validators: Validators, limits: FetchLimits, signal: AbortSignal, redirects: number): Promise<FetchOutcome> {
  const response = await get(url, validators, limits, signal);
  const status = response.statusCode ?? 0;
  if (status === 304) {
    response.resume();
    return { kind: "not-modified" };
  }
  if (status >= 300 && status < 400 && response.headers.location !== undefined) {
    response.resume();
    if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(response.headers.location, url);
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new Error(`redirected to ${next.protocol} URL`);
    return fetchFollowing(next, file, validators, limits, signal, redirects + 1);
  }
  if (status !== 200) {
    response.resume();
    throw new Error(`HTTP ${status}`);
  }
  const declared = Number(response.headers["content-length"] ?? Number.NaN);
  if (declared > limits.maxBytes) {
    response.destroy();
    throw new Error(`the CRL is ${declared} bytes, over the limit of ${limits.maxBytes}`);
  }
  const hash = createHash("sha256");
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) return done(new Error(`the CRL is over the limit of ${limits.maxBytes} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(response, counted, createWriteStream(file), { signal });
  if (bytes === 0) throw new Error("empty body");
  return {
    kind: "fetched",
    sha256: hash.digest("hex"),
    validators: { etag: header(response, "etag"), lastModified: header(response, "last-modified") },
  };
}

function get(url: URL, validators: Validators, limits: FetchLimits, signal: AbortSignal): Promise<IncomingMessage> {
  const headers: Record<string, string> = { accept: "application/pkix-crl, */*" };
  if (validators.etag !== undefined) headers["if-none-match"] = validators.etag;
  if (validators.lastModified !== undefined) headers["if-modified-since"] = validators.lastModified;
  return new Promise((resolve, reject) => {
    const options = { headers, signal, ...(limits.ca === undefined ? {} : { ca: limits.ca }) };
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
