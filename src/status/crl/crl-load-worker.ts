/**
 * A thread that loads one share of a CRL's entries for `loadCrlFile` (crl-load.ts). Share 0 reads
 * the file into shared memory and hands the bytes to the other share's thread over their own
 * channel (the serving thread never holds them: it would keep them until its next GC); both check
 * the CRL (share 0 also verifies its signature), walk every entry and add their share to a table.
 * The parse and its garbage live here, and only the finished table's arrays cross to the serving
 * thread, transferred without a copy. Posts `{ crl }` (a CheckedCrl) or `{ error: { message } }`,
 * the message worded for the file's ConfigError.
 */
import type { MessagePort } from "node:worker_threads";
import { parentPort, workerData } from "node:worker_threads";
import type { EntryShare } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import type { CrlIssuer } from "./crl-read.ts";
import { readCheckedCrl } from "./crl-read.ts";
import { transferables } from "../table/serial-table.ts";
import { readFileShared } from "../files/read-file-shared.ts";

const { file, issuer, now, share, peer, shared } = workerData as { file: string; issuer: CrlIssuer; now: number; share: EntryShare; peer: MessagePort; shared?: boolean };
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The file's bytes: read here for share 0 (and passed on), received for the others. */
async function fileBytes(): Promise<Buffer> {
  if (share.index !== 0) {
    const bytes = await new Promise<Uint8Array>((resolve) => peer.once("message", (message: { bytes: Uint8Array }) => resolve(message.bytes)));
    peer.close();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  let bytes: Buffer;
  try {
    bytes = await readFileShared(file);
  } catch (error) {
    throw new Error(`cannot read: ${messageOf(error)}`, { cause: error });
  }
  peer.postMessage({ bytes });
  peer.close();
  return bytes;
}

try {
  const crl = readCheckedCrl(await crlDerOfFile(await fileBytes()), issuer, now, { share, verify: share.index === 0, shared: shared === true });
  parentPort!.postMessage({ crl }, transferables(crl.entries));
} catch (error) {
  parentPort!.postMessage({ error: { message: messageOf(error) } });
}
