/**
 * The CRL job of a loading thread (loading-jobs.ts): one share of a CRL's entries, for `loadCrlFile`
 * (crl-load.ts), which runs two side by side. Share 0 reads the file into shared memory and hands the
 * bytes to the other share's thread over their own channel (the serving thread never holds them: it
 * would keep them until its next GC); both check the CRL (share 0 also verifies its signature),
 * walk every entry and add their share to a table. The parse and its garbage stay on the thread; only
 * the finished table's arrays (shared memory) reach the serving thread. Errors are worded for the file's ConfigError.
 */
import type { MessagePort } from "node:worker_threads";
import type { JobDone } from "../loading-jobs.ts";
import { readFileIntoSharedMemory } from "../files/shared-memory.ts";
import type { EntryShare } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import type { CheckedCrl, CrlIssuer } from "./crl-read.ts";
import { readCheckedCrl } from "./crl-read.ts";

/** What one share's thread is given. */
export interface CrlShareInput {
  readonly file: string;
  readonly issuer: CrlIssuer;
  /** The time thisUpdate must not be after (ms). */
  readonly now: number;
  readonly share: EntryShare;
  /** The channel to the other share's thread: share 0 sends the file's bytes on it, the others receive them. */
  readonly peer: MessagePort;
}

export async function crlShareJob(input: CrlShareInput): Promise<JobDone<CheckedCrl>> {
  return { output: readCheckedCrl(await crlDerOfFile(await fileBytes(input)), input.issuer, input.now, { share: input.share, verify: input.share.index === 0 }) };
}

/** The file's bytes: read here for share 0 (and passed on), received for the others. */
async function fileBytes({ file, share, peer }: CrlShareInput): Promise<Buffer> {
  if (share.index !== 0) {
    const bytes = await new Promise<Uint8Array>((resolve) => peer.once("message", (message: { bytes: Uint8Array }) => resolve(message.bytes)));
    peer.close();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  let bytes: Buffer;
  try {
    bytes = await readFileIntoSharedMemory(file);
  } catch (error) {
    throw new Error(`cannot read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  peer.postMessage({ bytes });
  peer.close();
  return bytes;
}
