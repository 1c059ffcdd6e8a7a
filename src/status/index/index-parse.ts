/**
 * Parses the certificate database `openssl ca` keeps (index.txt): one line per issued
 * certificate, six tab-separated fields
 *
 *     status  expiry  revocation  serial  filename  subject
 *
 * status V (valid), E (expired) or R (revoked); expiry and revocation are UTCTime text
 * (`YYMMDDHHMMSSZ`, or GeneralizedTime `YYYYMMDDHHMMSSZ`); the revocation field of an R line is
 * `time[,reason[,argument]]` (index-revocation-field.ts). The lines are read by index-lines.ts;
 * this file parses content already in memory, read-index-file.ts a file a chunk at a time.
 */
import type { SerialTable } from "../table/serial-table.ts";
import { SerialTableBuilder, serialTableFromParts } from "../table/serial-table.ts";
import { IndexLines } from "./index-lines.ts";
export { parseRevocationField } from "./index-revocation-field.ts";

/**
 * Reads index.txt content already in memory (`vouch store import-index`) into a table of every
 * listed serial (see IndexLines for what each line means), in one go: a command has no event loop
 * to keep answering. Rejects with ConfigError("file", "line N: ...", { file }) on the first
 * malformed line.
 */
export async function parseIndex(content: Buffer, file: string): Promise<SerialTable> {
  const builder = indexTableBuilder(content.length, likelyLines(content, Math.min(content.length, 1 << 20), content.length));
  new IndexLines(builder, file).feed(content, 0, content.length, true);
  return serialTableFromParts(builder.parts());
}

/**
 * How many lines an index of `total` bytes likely has, from the lines in its first `sampled`
 * bytes (`sample`), plus a margin: line lengths vary with the subject names.
 */
export function likelyLines(sample: Uint8Array, sampled: number, total: number): number {
  let newlines = 0;
  for (let i = 0; i < sampled; i++) if (sample[i] === 0x0a) newlines++;
  return newlines === 0 ? 1 : Math.ceil((total / sampled) * newlines * 1.05);
}

/**
 * A builder sized for an index of `bytes` bytes holding about `likelyRows` lines. A line is at
 * least 20 bytes (status, 13-character expiry, a 1-digit serial, 5 tabs), and a serial's octets are
 * half its hex digits, which bounds the table (see SerialTableBuilder); the likely count sizes the
 * hash slots, and more rows only cost one rehash.
 */
export function indexTableBuilder(bytes: number, likelyRows: number): SerialTableBuilder {
  return new SerialTableBuilder({ maxRows: bytes / 20 + 1, maxPoolBytes: bytes / 2 + 1, expectedRows: likelyRows + 1 });
}
