import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigError } from "./errors.ts";

/**
 * Reads one certificate (PEM or DER) from a file and returns its DER.
 * Throws ConfigError naming `field` and the file when it is missing or not a certificate.
 */
export async function readCertificateFile(file: string, field: string): Promise<Buffer> {
  const bytes = await readConfiguredFile(file, field);
  try {
    return Buffer.from(new X509Certificate(bytes).raw);
  } catch (error) {
    throw new ConfigError(field, `${file}: not a PEM or DER X.509 certificate`, { cause: error });
  }
}

/** The bytes of a file the configuration names; ConfigError naming `field` and the file when it is missing or unreadable. */
export async function readConfiguredFile(file: string, field: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(field, `${file}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
  }
}

/**
 * Reads every certificate of a file: a PEM file may hold several (a bundle), a DER file holds one.
 * Throws ConfigError naming `field` and the file when it is missing or holds no certificate.
 */
export async function readCertificatesFile(file: string, field: string): Promise<Buffer[]> {
  let text: string;
  try {
    text = await readFile(file, "latin1");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(field, `${file}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
  }
  if (!text.includes("-----BEGIN")) return [await readCertificateFile(file, field)];
  const certificates: Buffer[] = [];
  for (const match of text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    const der = Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
    try {
      certificates.push(Buffer.from(new X509Certificate(der).raw));
    } catch (error) {
      throw new ConfigError(field, `${file}: certificate ${certificates.length + 1} is not a valid X.509 certificate`, { cause: error });
    }
  }
  if (certificates.length === 0) throw new ConfigError(field, `${file}: holds no PEM certificate`);
  return certificates;
}
