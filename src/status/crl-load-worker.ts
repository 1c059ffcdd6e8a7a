/**
 * The thread that loads one CRL file for `loadCrlFile` (crl-load.ts): the file's bytes, the parse
 * and its garbage live here, and only the finished table's arrays cross to the serving thread,
 * transferred without a copy. Posts `{ crl }` (a CheckedCrl) or `{ error: { message } }`, the
 * message worded for the file's ConfigError.
 */
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import { crlDerOfFile } from "./crl-pem.ts";
import type { CrlIssuer } from "./crl-read.ts";
import { readCheckedCrl } from "./crl-read.ts";
import { transferables } from "./serial-table.ts";

const { file, issuer, now } = workerData as { file: string; issuer: CrlIssuer; now: number };
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

let bytes: Buffer | undefined;
try {
  bytes = await readFile(file);
} catch (error) {
  parentPort!.postMessage({ error: { message: `cannot read: ${messageOf(error)}` } });
}
if (bytes !== undefined) {
  try {
    const crl = readCheckedCrl(await crlDerOfFile(bytes), issuer, now);
    parentPort!.postMessage({ crl }, transferables(crl.entries));
  } catch (error) {
    parentPort!.postMessage({ error: { message: messageOf(error) } });
  }
}
