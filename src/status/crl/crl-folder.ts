/**
 * A folder holding the CRLs of many CAs (issue 16 item 3): each issuer's source takes the files
 * whose CRL names it as issuer. Only a file's first octets are read to tell (the issuer Name comes
 * right after the version and signature algorithm), so a folder of big CRLs costs little per issuer;
 * the files taken are then loaded and verified as any CRL file is.
 */
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { derHeader } from "./der-header.ts";

/** Octets read to tell a CRL's issuer: enough for the header of a DER CRL, or of a PEM one once decoded. */
export const CRL_HEAD_OCTETS = 96 * 1024;

/**
 * Names a publisher is still writing before it renames them into place (`ca.crl.new`, `ca.crl.tmp`,
 * a download's `.part`, an editor's `~`): taking one would answer from a file about to vanish.
 */
const BEING_WRITTEN = /(\.new|\.tmp|\.part|~)$/;

/**
 * The files of `folder` (not its sub-folders, nor names starting with "." or that are still being
 * written) holding a CRL, PEM or DER, whose issuer Name is `issuerSubjectDer` byte for byte, sorted
 * by name. Files that are not CRLs, or that went between the listing and the read, are passed over.
 * Rejects as fs.promises.readdir does.
 */
export async function crlFilesIssuedBy(folder: string, issuerSubjectDer: Buffer): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith(".") && !BEING_WRITTEN.test(entry.name))
    .map((entry) => join(folder, entry.name))
    .sort();
  const taken: string[] = [];
  for (const file of files) {
    const start = await crlFileHead(file);
    const issuer = start === undefined ? undefined : crlIssuerName(start);
    if (issuer !== undefined && issuer.equals(issuerSubjectDer)) taken.push(file);
  }
  return taken;
}

/** The file's first CRL_HEAD_OCTETS octets, or undefined when it is gone (renamed or removed since the listing). */
export async function crlFileHead(file: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(CRL_HEAD_OCTETS);
    const { bytesRead } = await handle.read(buffer, 0, CRL_HEAD_OCTETS, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The issuer Name TLV of the CRL whose first octets (DER, or PEM) are `start`, or `undefined`
 * when they are not the start of a CRL. Only element headers are read on the way: the whole CRL
 * need not be there.
 */
export function crlIssuerName(start: Buffer): Buffer | undefined {
  const der = start[0] === 0x30 ? start : pemHead(start);
  if (der === undefined) return undefined;
  const list = derHeader(der, 0);
  if (list?.tag !== 0x30) return undefined;
  const tbs = derHeader(der, list.contentStart);
  if (tbs?.tag !== 0x30) return undefined;
  let at = tbs.contentStart;
  let field = derHeader(der, at);
  if (field?.tag === 0x02) {
    at = field.contentStart + field.length;
    field = derHeader(der, at);
  }
  if (field?.tag !== 0x30) return undefined;
  const issuer = derHeader(der, field.contentStart + field.length);
  if (issuer?.tag !== 0x30 || issuer.contentStart + issuer.length > der.length) return undefined;
  return der.subarray(field.contentStart + field.length, issuer.contentStart + issuer.length);
}

/** The DER decoded from the first PEM CRL block in `text` as far as it goes. */
function pemHead(text: Buffer): Buffer | undefined {
  const latin = text.toString("latin1");
  const begin = /-----BEGIN (X509 )?CRL-----/.exec(latin);
  if (begin === null) return undefined;
  const body = latin.slice(begin.index + begin[0].length).split("-----")[0]!.replace(/\s+/g, "");
  return Buffer.from(body.slice(0, body.length - (body.length % 4)), "base64");
}
