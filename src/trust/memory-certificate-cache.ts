/**
 * The SPEC §1 certificate cache in process memory: a persistent part loaded at start and a dynamic
 * part for certificates learned from requests, bounded by count and bytes and evicted oldest first
 * (first in, first out: a certificate seen again keeps its age, so a client cannot pin entries by
 * resending them). Indexed by subject Name DER and by subjectKeyIdentifier.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { ConfigError } from "../errors.ts";
import { issuerHashes } from "../ocsp/cert-id.ts";
import { DerReader, TAG } from "../ocsp/der-reader.ts";
import type { HashAlgorithm } from "../ocsp/types.ts";
import { readCertificatesFile } from "../pki/certificate-file.ts";
import type { CertificateCache } from "./certificate-cache.ts";
import { parseCertificate } from "./parse-certificate.ts";

/** Options of `certificateCache`. */
export interface CertificateCacheOptions {
  /** DER certificates that are never evicted (configured intermediates, remote responder certificates). */
  readonly persistent: readonly Buffer[];
  /** Most certificates in the dynamic part (0 disables it). */
  readonly maxCount: number;
  /** Most DER bytes in the dynamic part. */
  readonly maxBytes: number;
}

interface Entry {
  readonly der: Buffer;
  readonly digest: string;
  readonly subjectKey: string;
  readonly skiKey: string | undefined;
  /** `issuer:serial` (hex), for forwarding's `fromcert`. */
  readonly issuerSerialKey: string;
  /** `algorithm:keyHash` (hex) per CertID hash algorithm; CA certificates only (only they issue). */
  readonly keyHashKeys: readonly string[];
}

/**
 * An in-memory CertificateCache. Throws ConfigError naming `persistent[i]` for a persistent entry
 * that is not a certificate Vouch can parse, and `maxCount`/`maxBytes` when not non-negative
 * integers. `add` ignores what does not parse as a certificate (requests carry arbitrary bytes) and
 * a certificate larger than `maxBytes`.
 */
export function certificateCache(options: CertificateCacheOptions): CertificateCache {
  const maxCount = requireLimit(options.maxCount, "maxCount");
  const maxBytes = requireLimit(options.maxBytes, "maxBytes");
  if (!Array.isArray(options.persistent)) throw new ConfigError("persistent", "must be a list of DER certificates");
  const persistent = new Map<string, Entry>();
  options.persistent.forEach((der, index) => {
    const entry = Buffer.isBuffer(der) ? entryOf(der) : undefined;
    if (entry === undefined) throw new ConfigError(`persistent[${index}]`, "not a certificate Vouch can parse");
    if (!persistent.has(entry.digest)) persistent.set(entry.digest, entry);
  });
  // Insertion order is age: the first key is the oldest.
  const dynamic = new Map<string, Entry>();
  let dynamicBytes = 0;
  const bySubject = new Map<string, Entry[]>();
  const bySki = new Map<string, Entry[]>();
  const byIssuerSerial = new Map<string, Entry[]>();
  const byKeyHash = new Map<string, Entry[]>();

  const index = (entry: Entry): void => {
    push(bySubject, entry.subjectKey, entry);
    if (entry.skiKey !== undefined) push(bySki, entry.skiKey, entry);
    push(byIssuerSerial, entry.issuerSerialKey, entry);
    for (const key of entry.keyHashKeys) push(byKeyHash, key, entry);
  };
  const unindex = (entry: Entry): void => {
    remove(bySubject, entry.subjectKey, entry);
    if (entry.skiKey !== undefined) remove(bySki, entry.skiKey, entry);
    remove(byIssuerSerial, entry.issuerSerialKey, entry);
    for (const key of entry.keyHashKeys) remove(byKeyHash, key, entry);
  };
  for (const entry of persistent.values()) index(entry);
  const persistentBytes = [...persistent.values()].reduce((sum, entry) => sum + entry.der.length, 0);

  const evict = (): void => {
    for (const [digest, entry] of dynamic) {
      if (dynamic.size <= maxCount && dynamicBytes <= maxBytes) return;
      dynamic.delete(digest);
      dynamicBytes -= entry.der.length;
      unindex(entry);
    }
  };

  const findBySubject = (subjectDer: Buffer): readonly Buffer[] => (bySubject.get(subjectDer.toString("hex")) ?? []).map((entry) => entry.der);

  return {
    add(certificate: Buffer): void {
      if (!Buffer.isBuffer(certificate) || certificate.length > maxBytes || maxCount === 0) return;
      const digest = digestOf(certificate);
      if (persistent.has(digest) || dynamic.has(digest)) return;
      // A copy: the input is often a view into a whole request body, which must not stay alive.
      const entry = entryOf(Buffer.from(certificate), digest);
      if (entry === undefined) return;
      dynamic.set(digest, entry);
      dynamicBytes += entry.der.length;
      index(entry);
      evict();
    },
    findBySubject,
    findBySubjectKeyId(keyIdentifier: Buffer): readonly Buffer[] {
      return (bySki.get(keyIdentifier.toString("hex")) ?? []).map((entry) => entry.der);
    },
    findByGeneralName(generalNameDer: Buffer): readonly Buffer[] {
      const nameDer = directoryNameOf(generalNameDer);
      return nameDer === undefined ? [] : findBySubject(nameDer);
    },
    findByKeyHash(algorithm: HashAlgorithm, keyHash: Buffer): readonly Buffer[] {
      return (byKeyHash.get(`${algorithm}:${keyHash.toString("hex")}`) ?? []).map((entry) => entry.der);
    },
    findByIssuerAndSerial(issuerDer: Buffer, serialNumber: Buffer): readonly Buffer[] {
      return (byIssuerSerial.get(`${issuerDer.toString("hex")}:${serialNumber.toString("hex")}`) ?? []).map((entry) => entry.der);
    },
    size() {
      return { persistent: persistent.size, persistentBytes, dynamic: dynamic.size, dynamicBytes };
    },
  };
}

/**
 * Every certificate in the files of `dir` ending in .pem, .crt, .cer or .der (any case; a PEM file
 * may hold several), in file name order; subfolders and other files are ignored. Rejects with
 * ConfigError(field, …) naming the folder when it cannot be read, or the file when one holds no
 * certificate or one Vouch cannot parse.
 */
export async function loadCertificateFolder(dir: string, field: string): Promise<Buffer[]> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((entry) => entry.isFile() && CERTIFICATE_EXTENSIONS.has(extname(entry.name).toLowerCase())).map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(field, `${dir}: ${code === "ENOENT" ? "folder not found" : `cannot read the folder (${code ?? String(error)})`}`, { cause: error });
  }
  const certificates: Buffer[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    const found = await readCertificatesFile(file, field);
    found.forEach((der, index) => {
      try {
        parseCertificate(der);
      } catch (error) {
        const which = found.length > 1 ? ` certificate ${index + 1}` : "";
        throw new ConfigError(field, `${file}:${which} ${error instanceof Error ? error.message : String(error)}`, { cause: error, file });
      }
    });
    certificates.push(...found);
  }
  return certificates;
}

const CERTIFICATE_EXTENSIONS = new Set([".pem", ".crt", ".cer", ".der"]);

function requireLimit(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw new ConfigError(field, "must be a non-negative integer");
  return value;
}

function digestOf(der: Buffer): string {
  return createHash("sha256").update(der).digest("base64");
}

function entryOf(der: Buffer, digest: string = digestOf(der)): Entry | undefined {
  try {
    const parsed = parseCertificate(der);
    const keyHashKeys = parsed.basicConstraints?.ca === true ? [...issuerHashes(der)].map(([algorithm, hashes]) => `${algorithm}:${hashes.keyHash.toString("hex")}`) : [];
    return {
      der,
      digest,
      subjectKey: parsed.fields.subjectDer.toString("hex"),
      skiKey: parsed.subjectKeyId?.toString("hex"),
      issuerSerialKey: `${parsed.fields.issuerDer.toString("hex")}:${parsed.fields.serialNumber.toString("hex")}`,
      keyHashKeys,
    };
  } catch {
    return undefined;
  }
}

/** The Name TLV of a directoryName [4] GeneralName, or `undefined` for any other (or broken) TLV. */
function directoryNameOf(generalNameDer: Buffer): Buffer | undefined {
  try {
    const top = DerReader.of(generalNameDer, "GeneralName");
    const tlv = top.next();
    top.finish();
    if (tlv.tag !== 0xa4) return undefined;
    const inner = top.enter(tlv, "directoryName");
    const name = inner.expect(TAG.SEQUENCE, "Name");
    inner.finish();
    return inner.whole(name);
  } catch {
    return undefined;
  }
}

function push(map: Map<string, Entry[]>, key: string, entry: Entry): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else list.push(entry);
}

function remove(map: Map<string, Entry[]>, key: string, entry: Entry): void {
  const list = map.get(key)?.filter((other) => other !== entry) ?? [];
  if (list.length === 0) map.delete(key);
  else map.set(key, list);
}
