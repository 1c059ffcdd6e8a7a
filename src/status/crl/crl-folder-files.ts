/**
 * One issuer's files in a folder of many CAs' CRLs (crl-folder.ts tells them apart by issuer Name),
 * looked at again whenever the folder's own stat changes: adding, removing or renaming a file in a
 * folder changes its mtime, so one stat per poll is all an unchanged folder costs (a watch on the
 * folder was an event per write to any file in it; see files/file-watch.ts). Rewriting a file in
 * place does not change the folder; that is the files' own watch's business.
 */
import { readFile } from "node:fs/promises";
import { X509Certificate } from "node:crypto";
import { ConfigError } from "../../errors.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { fileSignatures } from "../files/file-changes.ts";
import { crlIssuer } from "./crl-load.ts";
import { crlFilesIssuedBy } from "./crl-folder.ts";
import { crlDerOfFile } from "./crl-pem.ts";
import { parseCrl } from "./crl-parse.ts";
import { verifyCrlSignatureNow } from "./crl-signature.ts";

export class FolderFiles {
  readonly #folder: string;
  readonly #subject: Buffer;
  #signature: string;

  private constructor(folder: string, subject: Buffer, signature: string) {
    this.#folder = folder;
    this.#subject = subject;
    this.#signature = signature;
  }

  /**
   * The files of `folder` whose CRL `issuerDer` issued (its name, then its key verifying the
   * signature: CAs may share a name, as a re-keyed CA and its predecessor do), and the means to
   * look again. Rejects with ConfigError("folder") when it cannot be read or holds none.
   */
  static async open(folder: string, issuerDer: Buffer): Promise<{ files: string[]; folder: FolderFiles }> {
    let subject: Buffer;
    try {
      subject = certificateFields(issuerDer).subjectDer;
    } catch (error) {
      throw new ConfigError("issuer", `not a DER certificate: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const signature = await fileSignatures([folder]);
    let named: string[];
    try {
      named = await crlFilesIssuedBy(folder, subject);
    } catch (error) {
      throw new ConfigError("folder", `cannot be read: ${error instanceof Error ? error.message : String(error)}`, { file: folder, cause: error });
    }
    const { publicKey } = crlIssuer(issuerDer);
    const files: string[] = [];
    for (const file of named) {
      try {
        verifyCrlSignatureNow(parseCrl(await crlDerOfFile(await readFile(file))), publicKey);
        files.push(file);
      } catch {
        // Another CA's CRL under the same name, or a broken file: not this issuer's.
      }
    }
    if (files.length === 0) throw new ConfigError("folder", `holds no CRL issued by ${new X509Certificate(issuerDer).subject.split("\n").join(", ")}`, { file: folder });
    return { files, folder: new FolderFiles(folder, subject, signature) };
  }

  get path(): string {
    return this.#folder;
  }

  /**
   * The folder's files whose CRL names this issuer, when the folder's names may have changed since
   * the last look, else `undefined`. Their signatures are not checked here: a new file is loaded on
   * the loading threads, which verify it (a full parse on the serving thread would stall answers).
   * Rejects as fs.promises.readdir does.
   */
  async changed(): Promise<string[] | undefined> {
    const signature = await fileSignatures([this.#folder]);
    if (signature === this.#signature) return undefined;
    const named = await crlFilesIssuedBy(this.#folder, this.#subject);
    this.#signature = signature;
    return named;
  }
}
