/**
 * A thread that loads one share of a CRL's entries for `loadCrlFile` (crl-load.ts). It is handed
 * the file's bytes in shared memory (`{ bytes }`), checks the CRL (share 0 also verifies its
 * signature), walks every entry and adds its share to a table; the parse and its garbage live
 * here, and only the finished table's arrays cross to the serving thread, transferred without a
 * copy. Posts `{ crl }` (a CheckedCrl) or `{ error: { message } }`, the message worded for the
 * file's ConfigError.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { EntryShare } from "./crl-entries.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import type { CrlIssuer } from "./crl-read.ts";
import { readCheckedCrl } from "./crl-read.ts";
import { transferables } from "./serial-table.ts";

const { issuer, now, share } = workerData as { issuer: CrlIssuer; now: number; share: EntryShare };

parentPort!.once("message", async ({ bytes }: { bytes: Uint8Array }) => {
  try {
    const der = await crlDerOfFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const crl = readCheckedCrl(der, issuer, now, { share, verify: share.index === 0 });
    parentPort!.postMessage({ crl }, transferables(crl.entries));
  } catch (error) {
    parentPort!.postMessage({ error: { message: error instanceof Error ? error.message : String(error) } });
  }
});
