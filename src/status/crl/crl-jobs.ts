/**
 * The CRL job of a loading thread (loading-jobs.ts): one share of a CRL's entries, for crl-load.ts,
 * which runs two side by side. Share 0 gets the bytes into shared memory (reads the file, or fetches
 * the URL: fetch/http-body.ts) and hands them to the other share's thread over their own channel (the
 * serving thread never holds them: it would keep them until its next GC); both check the CRL (share 0
 * also verifies its signature), walk every entry and add their share to a table. A fetched CRL is
 * also hashed (by share 1, whose walk is the shorter without the signature) and written to its part
 * file (by share 0, on the thread pool while it parses, synced before it answers). The parse and its
 * garbage stay on the thread; only the finished table's arrays (shared memory) reach the serving
 * thread. Errors are worded for the file's ConfigError; a fetch that failed is a FetchError.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { MessagePort } from "node:worker_threads";
import type { JobDone } from "../loading-jobs.ts";
import { readFileIntoSharedMemory } from "../files/shared-memory.ts";
import type { EntryShare } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import type { CheckedCrl, CrlIssuer } from "./crl-read.ts";
import { readCheckedCrl } from "./crl-read.ts";
import { httpFetchIntoMemory } from "./fetch/http-body.ts";
import { FetchError, type FetchLimits, type Validators } from "./fetch/fetch-types.ts";

/** Where share 0 gets the CRL's bytes: a file, or an http(s) URL fetched whole (and written to `part`). */
export type CrlBytesSource =
  | { readonly kind: "file"; readonly file: string }
  | { readonly kind: "url"; readonly url: string; readonly limits: FetchLimits; readonly part: string };

/** What one share's thread is given. */
export interface CrlShareInput {
  /** Read by share 0 only. */
  readonly source: CrlBytesSource;
  readonly issuer: CrlIssuer;
  /** The time thisUpdate must not be after (ms). */
  readonly now: number;
  readonly share: EntryShare;
  /** The channel to the other share's thread: share 0 sends the bytes on it, the others receive them. */
  readonly peer: MessagePort;
  /**
   * Hash the bytes (SHA-256) first; when they hash to `unless` (the CRL held), answer `unchanged`
   * without parsing.
   */
  readonly hash?: { readonly unless?: string | undefined } | undefined;
}

/** One share's answer: its part of the checked CRL (with what a fetch learnt), or that the bytes are the CRL held. */
export type CrlShareDone =
  | { readonly kind: "checked"; readonly crl: CheckedCrl; readonly sha256: string | undefined; readonly validators: Validators | undefined }
  | { readonly kind: "unchanged" };

export async function crlShareJob(input: CrlShareInput): Promise<JobDone<CrlShareDone>> {
  const { bytes, validators, persisted } = await shareBytes(input);
  let sha256: string | undefined;
  if (input.hash !== undefined) {
    sha256 = createHash("sha256").update(bytes).digest("hex");
    if (sha256 === input.hash.unless) return { output: { kind: "unchanged" } };
  }
  const crl = readCheckedCrl(await crlDerOfFile(bytes), input.issuer, input.now, { share: input.share, verify: input.share.index === 0 });
  await persisted;
  return { output: { kind: "checked", crl, sha256, validators } };
}

/** The CRL's bytes: read or fetched here for share 0 (and passed on), received for the others. */
async function shareBytes({ source, share, peer }: CrlShareInput): Promise<{ bytes: Buffer; validators?: Validators; persisted?: Promise<void> }> {
  if (share.index !== 0) {
    const bytes = await new Promise<Uint8Array>((resolve) => peer.once("message", (message: { bytes: Uint8Array }) => resolve(message.bytes)));
    peer.close();
    return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }
  let got: { bytes: Buffer; validators?: Validators; persisted?: Promise<void> };
  if (source.kind === "url") {
    const fetched = await httpFetchIntoMemory(new URL(source.url), source.limits);
    got = { ...fetched, persisted: (await persisting(source.part, fetched.bytes)).written };
  } else {
    try {
      got = { bytes: await readFileIntoSharedMemory(source.file) };
    } catch (error) {
      throw new Error(`cannot read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  peer.postMessage({ bytes: got.bytes });
  peer.close();
  return got;
}

/**
 * Starts writing `bytes` to `part` on the thread pool, in one write so that it runs while this
 * thread parses (fs.promises.writeFile would wait for this thread between its 512 KiB pieces), and
 * resolves (once the file is open) with the promise of it written and synced. The serving thread
 * renames the part file into place only once the CRL passed every check.
 */
async function persisting(part: string, bytes: Buffer): Promise<{ written: Promise<void> }> {
  const handle = await open(part, "w");
  const written = (async () => {
    try {
      for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at, bytes.length - at)).bytesWritten;
      await handle.datasync();
    } catch (error) {
      throw new FetchError(`cannot write ${part}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      await handle.close();
    }
  })();
  written.catch(() => {});
  return { written };
}
