/**
 * Test support (not a test): certificates made with the openssl CLI, one call per certificate, with
 * whatever extension lines a test needs. Unlike pki/openssl-pki.ts (a fixed demo hierarchy kept by
 * `openssl ca`), these build arbitrary hierarchies: constrained CAs, cross-signed loops, decoys.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { generateKey, openssl, type PkiKeyType } from "../../pki/openssl-pki.ts";

/** A generated certificate: DER, PEM path and private key path. */
export interface Made {
  readonly name: string;
  readonly der: Buffer;
  readonly pem: string;
  readonly key: string;
  /** The serial's content octets in hex (lower case), as memorySource entries take it. */
  readonly serial: string;
}

/** What to put in a certificate. */
export interface MakeOptions {
  /** openssl `-subj` form: "/C=SE/O=Acme/CN=Alice" ("+" inside an RDN makes it multi-valued). */
  readonly subject: string;
  /**
   * Lines of the certificate's extension section, in openssl.cnf syntax. OpenSSL 3 adds
   * subjectKeyIdentifier and authorityKeyIdentifier unless a line says `= none`.
   */
  readonly extensions: readonly string[];
  /** Further config sections the lines refer to (e.g. `[ dir_sect ]` for a dirName). */
  readonly sections?: string;
  readonly days?: number;
  /** Reuse this private key (a path) instead of generating one: cross-certificates. */
  readonly key?: string;
  readonly keyType?: PkiKeyType;
}

/** Extension lines of the usual shapes. */
export const EXT = {
  root: ["basicConstraints = critical,CA:TRUE", "keyUsage = critical,keyCertSign,cRLSign", "subjectKeyIdentifier = hash"],
  ca: ["basicConstraints = critical,CA:TRUE", "keyUsage = critical,keyCertSign,cRLSign", "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid:always"],
  leaf: [
    "basicConstraints = critical,CA:FALSE",
    "keyUsage = critical,digitalSignature",
    "extendedKeyUsage = serverAuth,clientAuth",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid:always",
  ],
} as const;

/** A scratch folder that makes certificates; `remove` deletes it. */
export interface CertificateMaker {
  readonly dir: string;
  selfSigned(name: string, options: MakeOptions): Promise<Made>;
  issue(name: string, issuer: Made, options: MakeOptions): Promise<Made>;
  remove(): Promise<void>;
}

/** A maker over a fresh temporary folder. */
export async function certificateMaker(): Promise<CertificateMaker> {
  const dir = await mkdtemp(join(tmpdir(), "vouch-trust-"));
  const prepare = async (name: string, options: MakeOptions): Promise<{ key: string; config: string; serial: string }> => {
    const key = options.key ?? join(dir, `${name}.key`);
    if (options.key === undefined) await generateKey(options.keyType ?? "ecdsa-p256", key);
    const config = join(dir, `${name}.cnf`);
    await writeFile(config, `[ req ]\ndistinguished_name = req_dn\nprompt = no\n[ req_dn ]\nCN = unused\n[ ext ]\n${options.extensions.join("\n")}\n${options.sections ?? ""}\n`);
    // Random positive serials: memorySource entries are keyed by serial.
    const serial = randomBytes(8);
    serial[0] = (serial[0]! & 0x3f) | 0x10;
    return { key, config, serial: `0x${serial.toString("hex")}` };
  };
  const finish = async (name: string, pem: string, key: string): Promise<Made> => {
    const text = await readFile(pem, "latin1");
    const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
    if (match === null) throw new Error(`${pem}: no certificate`);
    const der = Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
    return { name, der, pem, key, serial: certificateFields(der).serialNumber.toString("hex") };
  };
  const subjectArgs = (subject: string): string[] => ["-subj", subject, ...(subject.includes("+") ? ["-multivalue-rdn"] : [])];
  return {
    dir,
    async selfSigned(name, options) {
      const { key, config, serial } = await prepare(name, options);
      const pem = join(dir, `${name}.pem`);
      await openssl(["req", "-new", "-x509", "-key", key, ...subjectArgs(options.subject), "-days", String(options.days ?? 3650), "-set_serial", serial,
        "-config", config, "-extensions", "ext", "-out", pem]);
      return finish(name, pem, key);
    },
    async issue(name, issuer, options) {
      const { key, config, serial } = await prepare(name, options);
      const csr = join(dir, `${name}.csr`);
      const pem = join(dir, `${name}.pem`);
      await openssl(["req", "-new", "-key", key, ...subjectArgs(options.subject), "-config", config, "-out", csr]);
      await openssl(["x509", "-req", "-in", csr, "-CA", issuer.pem, "-CAkey", issuer.key, "-set_serial", serial, "-days", String(options.days ?? 365),
        "-extfile", config, "-extensions", "ext", "-out", pem]);
      return finish(name, pem, key);
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A copy of `der` with one octet of the signature value changed (the last octet of the certificate). */
export function withBrokenSignature(der: Buffer): Buffer {
  const copy = Buffer.from(der);
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
  return copy;
}
