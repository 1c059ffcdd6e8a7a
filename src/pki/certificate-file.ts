import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigError } from "../errors.ts";

/**
 * Reads one certificate (PEM or DER) from a file and returns its DER.
 * Throws ConfigError naming `field` and the file when it is missing or not a certificate.
 */
export async function readCertificateFile(file: string, field: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(field, `${file}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
  }
  try {
    return Buffer.from(new X509Certificate(bytes).raw);
  } catch (error) {
    throw new ConfigError(field, `${file}: not a PEM or DER X.509 certificate`, { cause: error });
  }
}
