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
 * share 1 before the first octet; share 1 walks every entry into one table as they arrive
 * (crl-arriving.ts), and checks the whole once complete; share 0 hashes it (answering `unchanged`
 * when it is the CRL held), checks it and verifies its signature, and writes it to its part file on
 * the thread pool meanwhile (synced before it answers). Measured with 1M entries, the walk after the
 * download put ~0.3 s on the time to ready that the file path does not have; during it, ~none.
 *
 * Errors are worded for the file's ConfigError; a fetch that brought no CRL is a FetchError.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { MessagePort } from "node:worker_threads";
import type { JobDone } from "../loading-jobs.ts";
import type { ArrivingBytes } from "../files/arriving-bytes.ts";
import { readFileIntoSharedMemory } from "../files/shared-memory.ts";
import type { EntryShare } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import type { CheckedCrl, CrlIssuer } from "./crl-read.ts";
import { checkCrlHeader, readCheckedCrl } from "./crl-read.ts";
import { readArrivingCrl } from "./crl-arriving.ts";
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
  /** Its table of the checked CRL's entries (a file's half, or a fetched CRL's whole). */
  | { readonly kind: "checked"; readonly crl: CheckedCrl }
  /** A fetched CRL checked and verified (its entries are share 1's), hashed and written to its part file. */
  | { readonly kind: "verified"; readonly sha256: string; readonly validators: Validators }
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
    const bytes = asBuffer(handed.bytes);
    return { output: { kind: "checked", crl: readCheckedCrl(await crlDerOfFile(bytes), issuer, now, { share, verify: false }) } };
  }
  if (source.kind === "url") return { output: await fetchAndVerify(source, input) };
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
async function fetchAndVerify(source: Extract<CrlBytesSource, { kind: "url" }>, { issuer, now, peer }: CrlShareInput): Promise<CrlShareDone> {
  const fetched = await httpFetchIntoMemory(new URL(source.url), source.limits, (arriving) => {
    peer.postMessage({ arriving } satisfies Handed);
    peer.close();
  });
  const { written } = await persisting(source.part, fetched.bytes);
  try {
    const sha256 = createHash("sha256").update(fetched.bytes).digest("hex");
    if (sha256 === source.unlessSha256) return { kind: "unchanged" };
    checkCrlHeader(await crlDerOfFile(fetched.bytes), issuer, now, true);
    return { kind: "verified", sha256, validators: fetched.validators };
  } finally {
    await written;
  }
}

/**
 * Starts writing `bytes` to `part` on the thread pool, in one write so that it runs while this
 * thread hashes and verifies (fs.promises.writeFile would wait for this thread between its 512 KiB
 * pieces), and resolves (once the file is open) with the promise of it written and synced. The
 * serving thread renames the part file into place only once the CRL passed every check.
 */
async function persisting(part: string, bytes: Buffer): Promise<{ written: Promise<void> }> {
  let handle;
  try {
    handle = await open(part, "w");
  } catch (error) {
    throw new FetchError(`cannot write ${part}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const opened = handle;
  const written = (async () => {
    try {
      for (let at = 0; at < bytes.length; ) at += (await opened.write(bytes, at, bytes.length - at)).bytesWritten;
      await opened.datasync();
    } catch (error) {
      throw new FetchError(`cannot write ${part}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      await opened.close();
    }
  })();
  written.catch(() => {});
  return { written };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
