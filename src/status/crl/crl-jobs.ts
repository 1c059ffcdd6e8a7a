/**
 * The CRL job of a loading thread (loading-jobs.ts), for crl-load.ts, which runs two side by side.
 * The serving thread never holds the CRL's bytes (it would keep them until its next GC); only the
 * finished table's arrays (shared memory) reach it, and the parse and its garbage stay on the threads.
 *
 * A file: share 0 reads it into shared memory and hands the bytes to share 1 over their own channel;
 * both check the CRL (share 0 also verifies its signature), walk every entry and add their half to a
 * table.
 *
 * An http(s) URL: share 0 fetches it into shared memory (fetch/http-body.ts), handing the buffer to
 * share 1 before the first octet; as it comes, share 0 hashes it and feeds the signature check
 * (crl-arriving.ts ArrivingDigest) and writes it to its part file (synced before it answers), then
 * checks the whole (answering `unchanged` when it is the CRL held); share 1 walks every entry into
 * one table as they arrive (crl-arriving.ts readArrivingCrl) and checks the whole once complete.
 * Measured with 1M entries, the walk, the hash, the signature and the write after the download had
 * put ~0.5 s on the time to ready that the file path does not have.
 *
 * Errors are worded for the file's ConfigError; a fetch that brought no CRL is a FetchError.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { MessagePort } from "node:worker_threads";
import type { JobDone } from "../loading-jobs.ts";
import type { ArrivingBytes } from "../files/arriving-bytes.ts";
import { readFileIntoSharedMemory } from "../files/shared-memory.ts";
import type { EntryShare } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import type { CheckedCrl, CrlIssuer } from "./crl-read.ts";
import { readCheckedCrl } from "./crl-read.ts";
import { ArrivingDigest, readArrivingCrl } from "./crl-arriving.ts";
import { httpFetchIntoMemory } from "./fetch/http-body.ts";
import { FetchError, type FetchLimits, type Validators } from "./fetch/fetch-types.ts";

/** Where share 0 gets the CRL's bytes: a file, or an http(s) URL fetched whole (and written to `part`). */
export type CrlBytesSource =
  | { readonly kind: "file"; readonly file: string }
  | {
      readonly kind: "url";
      readonly url: string;
      readonly limits: FetchLimits;
      readonly part: string;
      /** The SHA-256 (hex) of the CRL held: bytes that hash to it are answered `unchanged`, not parsed. */
      readonly unlessSha256: string | undefined;
    };

/** What one share's thread is given. */
export interface CrlShareInput {
  /** Read by share 0 only. */
  readonly source: CrlBytesSource;
  readonly issuer: CrlIssuer;
  /** The time thisUpdate must not be after (ms). */
  readonly now: number;
  /** A file's: which entries this share's table takes. */
  readonly share: EntryShare;
  /** The channel to the other share's thread: share 0 sends the bytes on it, share 1 receives them. */
  readonly peer: MessagePort;
}

/** One share's answer. */
export type CrlShareDone =
  /** Its table of the checked CRL's entries (a file's half; a fetched CRL's whole). */
  | { readonly kind: "checked"; readonly crl: CheckedCrl }
  /** A fetched CRL checked but for its entries, written (and synced) to its part file, with its SHA-256 and what the answer said about its version. */
  | { readonly kind: "fetched"; readonly sha256: string; readonly validators: Validators }
  /** A fetched CRL whose bytes are the CRL held. */
  | { readonly kind: "unchanged" };

/** Posted from share 0 to share 1: a file's bytes, or a download's as they arrive. */
type Handed = { readonly bytes: Uint8Array } | { readonly arriving: ArrivingBytes };

export async function crlShareJob(input: CrlShareInput): Promise<JobDone<CrlShareDone>> {
  const { source, share, peer, issuer, now } = input;
  if (share.index !== 0) {
    const handed = await new Promise<Handed>((resolve) => peer.once("message", resolve));
    peer.close();
    // A Buffer posted to another thread arrives as a Uint8Array over the same memory.
    if ("arriving" in handed) return { output: { kind: "checked", crl: await readArrivingCrl({ ...handed.arriving, bytes: asBuffer(handed.arriving.bytes) }, issuer, now) } };
    return { output: { kind: "checked", crl: readCheckedCrl(await crlDerOfFile(asBuffer(handed.bytes)), issuer, now, { share, verify: false }) } };
  }
  if (source.kind === "url") return { output: await fetchAndCheck(source, input) };
  let bytes: Buffer;
  try {
    bytes = await readFileIntoSharedMemory(source.file);
  } catch (error) {
    throw new Error(`cannot read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  peer.postMessage({ bytes } satisfies Handed);
  peer.close();
  return { output: { kind: "checked", crl: readCheckedCrl(await crlDerOfFile(bytes), issuer, now, { share, verify: true }) } };
}

/** Share 0 of a fetched CRL: see the file comment. */
async function fetchAndCheck(source: Extract<CrlBytesSource, { kind: "url" }>, { issuer, now, peer }: CrlShareInput): Promise<CrlShareDone> {
  const part = await partFile(source.part);
  const digest = new ArrivingDigest(issuer);
  try {
    const fetched = await httpFetchIntoMemory(
      new URL(source.url),
      source.limits,
      (arriving) => {
        peer.postMessage({ arriving } satisfies Handed);
        peer.close();
      },
      (bytes, filled) => {
        part.arrived(bytes, filled);
        digest.arrived(bytes, filled);
      },
    );
    const sha256 = digest.sha256();
    if (sha256 === source.unlessSha256) return { kind: "unchanged" };
    digest.check(await crlDerOfFile(fetched.bytes), now);
    await part.finish(fetched.bytes.length);
    return { kind: "fetched", sha256, validators: fetched.validators };
  } finally {
    await part.close();
  }
}

/** Octets written to the part file at once, at least (fewer only at the end). */
const WRITE_PIECE = 1 << 20;

/**
 * The part file written as the bytes come, a piece at a time on the thread pool (at most one write
 * in flight), so that at the end only the last piece and the sync remain.
 */
async function partFile(path: string): Promise<{ arrived(bytes: Buffer, filled: number): void; finish(length: number): Promise<void>; close(): Promise<void> }> {
  const wrap = (error: unknown): FetchError => new FetchError(`cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  let handle: FileHandle;
  try {
    handle = await open(path, "w");
  } catch (error) {
    throw wrap(error);
  }
  let bytes: Buffer | undefined;
  let written = 0;
  let filled = 0;
  let writing: Promise<void> | undefined;
  let fault: unknown;
  const writeMore = (upTo: number): void => {
    if (writing !== undefined || bytes === undefined || upTo <= written) return;
    const from = written;
    writing = handle.write(bytes, from, upTo - from, from).then(
      ({ bytesWritten }) => {
        written = from + bytesWritten;
        writing = undefined;
        if (filled - written >= WRITE_PIECE) writeMore(filled);
      },
      (error: unknown) => {
        fault = error;
      },
    );
  };
  return {
    arrived(body, upTo) {
      bytes = body;
      filled = upTo;
      if (fault === undefined && filled - written >= WRITE_PIECE) writeMore(filled);
    },
    async finish(length) {
      try {
        while (fault === undefined && (writing !== undefined || written < length)) {
          if (writing !== undefined) await writing;
          else if (bytes === undefined) throw new Error("no bytes arrived");
          else writeMore(length);
        }
        if (fault !== undefined) throw fault;
        await handle.datasync();
      } catch (error) {
        throw wrap(error);
      }
    },
    async close() {
      await writing?.catch(() => {});
      await handle.close();
    },
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
