/**
 * The SPEC §1 certificate cache in process memory, in three tiers (certificate-cache.ts): persistent
 * (loaded at start), authenticated and unauthenticated, the last two each bounded by count and bytes
 * and evicted oldest first (first in, first out: a certificate seen again keeps its age, so a client
 * cannot pin entries by resending them). Indexed by subject Name DER, subjectKeyIdentifier, issuer
 * and serial, and (CAs of the trusted tiers) CertID issuer key hash.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { ConfigError } from "../errors.ts";
import { issuerHashes } from "../ocsp/cert-id.ts";
import { DerReader, TAG } from "../ocsp/der-reader.ts";
import type { HashAlgorithm } from "../ocsp/types.ts";
import { readCertificatesFile } from "../certificate-file.ts";
import type { CertificateCache } from "./certificate-cache.ts";
import { parseCertificate } from "./parse-certificate.ts";

/** Options of `certificateCache`. */
export interface CertificateCacheOptions {
  /** DER certificates that are never evicted (configured intermediates, remote responder certificates). */
  readonly persistent: readonly Buffer[];
  /** Most certificates in the authenticated tier (0 disables it). */
  readonly maxCount: number;
  /** Most DER bytes in the authenticated tier. */
  readonly maxBytes: number;
  /**
   * Bounds of the unauthenticated tier (default: UNAUTHENTICATED_LIMITS, never more than the
   * authenticated tier's bounds).
   */
  readonly unauthenticated?: { readonly maxCount: number; readonly maxBytes: number } | undefined;
}

/**
 * Default bounds of the unauthenticated tier: what clients sent and nobody has vouched for yet.
 * Small, because it only has to hold a request's or a handshake's own chain while it is checked
 * (and a few of its neighbours'); a flood of junk replaces only junk.
 */
const UNAUTHENTICATED_LIMITS = { maxCount: 128, maxBytes: 512 * 1024 } as const;

/**
 * Unauthenticated certificates one lookup returns at most (the newest first): what a lookup costs
 * its caller stays bounded whatever clients sent, and the trusted tiers always come first.
 */
export const UNAUTHENTICATED_PER_LOOKUP = 4;

interface Entry {
  readonly der: Buffer;
  readonly digest: string;
  readonly subjectKey: string;
  readonly skiKey: string | undefined;
  /** `issuer:serial` (hex), for forwarding's `fromcert`. */
  readonly issuerSerialKey: string;
  /** Whether basicConstraints says cA (only CAs are found by CertID key hash). */
  readonly ca: boolean;
}

/** One tier: its entries in insertion order (the first is the oldest) and its indexes. */
interface Tier {
  /** Persistent and authenticated: what forwarding may use (CertID key hashes, issuer and serial). */
  readonly trusted: boolean;
  readonly entries: Map<string, Entry>;
  bytes: number;
  readonly bySubject: Map<string, Entry[]>;
  readonly bySki: Map<string, Entry[]>;
  readonly byIssuerSerial: Map<string, Entry[]>;
  /** `algorithm:keyHash` (hex) per CertID hash algorithm; CA certificates of the trusted tiers only. */
  readonly byKeyHash: Map<string, Entry[]>;
}

/**
 * An in-memory CertificateCache. Throws ConfigError naming `persistent[i]` for a persistent entry
 * that is not a certificate Vouch can parse, and `maxCount`/`maxBytes` (or
 * `unauthenticated.maxCount`/`.maxBytes`) when not non-negative integers. `add` and
 * `addAuthenticated` ignore what does not parse as a certificate (requests carry arbitrary bytes)
 * and a certificate larger than the tier's byte bound.
 */
export function certificateCache(options: CertificateCacheOptions): CertificateCache {
  const maxCount = requireLimit(options.maxCount, "maxCount");
  const maxBytes = requireLimit(options.maxBytes, "maxBytes");
  const limits = options.unauthenticated ?? UNAUTHENTICATED_LIMITS;
  const unauthenticatedMaxCount = Math.min(requireLimit(limits.maxCount, "unauthenticated.maxCount"), maxCount);
  const unauthenticatedMaxBytes = Math.min(requireLimit(limits.maxBytes, "unauthenticated.maxBytes"), maxBytes);
  if (!Array.isArray(options.persistent)) throw new ConfigError("persistent", "must be a list of DER certificates");
  const persistent = tier(true);
  const authenticated = tier(true);
  const unauthenticated = tier(false);
  options.persistent.forEach((der, index) => {
    const entry = Buffer.isBuffer(der) ? entryOf(der) : undefined;
    if (entry === undefined) throw new ConfigError(`persistent[${index}]`, "not a certificate Vouch can parse");
    if (!persistent.entries.has(entry.digest)) put(persistent, entry);
  });
  const trusted = [persistent, authenticated] as const;

  /** Puts `entry` into `into`, then evicts that tier's oldest entries beyond its bounds. */
  const admit = (into: Tier, entry: Entry, count: number, bytes: number): void => {
    put(into, entry);
    for (const oldest of into.entries.values()) {
      if (into.entries.size <= count && into.bytes <= bytes) return;
      take(into, oldest);
    }
  };

  /** Trusted tiers (persistent, then authenticated newest first), then the newest unauthenticated few. */
  const find = (index: (t: Tier) => Map<string, Entry[]>, key: string): readonly Buffer[] => {
    const found = [...(index(persistent).get(key) ?? [])].map((entry) => entry.der);
    const learned = index(authenticated).get(key) ?? [];
    for (let i = learned.length - 1; i >= 0; i--) found.push(learned[i]!.der);
    const unknown = index(unauthenticated).get(key) ?? [];
    for (let i = unknown.length - 1; i >= 0 && i >= unknown.length - UNAUTHENTICATED_PER_LOOKUP; i--) found.push(unknown[i]!.der);
    return found;
  };
  const findTrusted = (index: (t: Tier) => Map<string, Entry[]>, key: string): readonly Buffer[] => trusted.flatMap((t) => (index(t).get(key) ?? []).map((entry) => entry.der));
  const findBySubject = (subjectDer: Buffer): readonly Buffer[] => find((t) => t.bySubject, subjectDer.toString("hex"));

  return {
    add(certificate: Buffer): void {
      if (!Buffer.isBuffer(certificate) || certificate.length > unauthenticatedMaxBytes || unauthenticatedMaxCount === 0) return;
      const digest = digestOf(certificate);
      if (persistent.entries.has(digest) || authenticated.entries.has(digest) || unauthenticated.entries.has(digest)) return;
      // A copy: the input is often a view into a whole request body, which must not stay alive.
      const entry = entryOf(Buffer.from(certificate), digest);
      if (entry !== undefined) admit(unauthenticated, entry, unauthenticatedMaxCount, unauthenticatedMaxBytes);
    },
    addAuthenticated(certificate: Buffer): void {
      if (!Buffer.isBuffer(certificate) || certificate.length > maxBytes || maxCount === 0) return;
      const digest = digestOf(certificate);
      if (persistent.entries.has(digest) || authenticated.entries.has(digest)) return;
      const known = unauthenticated.entries.get(digest);
      if (known !== undefined) take(unauthenticated, known);
      const entry = known ?? entryOf(Buffer.from(certificate), digest);
      if (entry !== undefined) admit(authenticated, entry, maxCount, maxBytes);
    },
    findBySubject,
    findBySubjectKeyId(keyIdentifier: Buffer): readonly Buffer[] {
      return find((t) => t.bySki, keyIdentifier.toString("hex"));
    },
    findByGeneralName(generalNameDer: Buffer): readonly Buffer[] {
      const nameDer = directoryNameOf(generalNameDer);
      return nameDer === undefined ? [] : findBySubject(nameDer);
    },
    findByKeyHash(algorithm: HashAlgorithm, keyHash: Buffer): readonly Buffer[] {
      return findTrusted((t) => t.byKeyHash, `${algorithm}:${keyHash.toString("hex")}`);
    },
    findByIssuerAndSerial(issuerDer: Buffer, serialNumber: Buffer): readonly Buffer[] {
      return findTrusted((t) => t.byIssuerSerial, `${issuerDer.toString("hex")}:${serialNumber.toString("hex")}`);
    },
    tiers() {
      return [
        { tier: "persistent", certificates: persistent.entries.size, bytes: persistent.bytes },
        { tier: "authenticated", certificates: authenticated.entries.size, bytes: authenticated.bytes },
        { tier: "unauthenticated", certificates: unauthenticated.entries.size, bytes: unauthenticated.bytes },
      ];
    },
  };
}

function tier(trusted: boolean): Tier {
  return { trusted, entries: new Map(), bytes: 0, bySubject: new Map(), bySki: new Map(), byIssuerSerial: new Map(), byKeyHash: new Map() };
}

/** Adds `entry` to `into` and its indexes; a trusted tier also indexes a CA by its CertID key hashes. */
function put(into: Tier, entry: Entry): void {
  into.entries.set(entry.digest, entry);
  into.bytes += entry.der.length;
  push(into.bySubject, entry.subjectKey, entry);
  if (entry.skiKey !== undefined) push(into.bySki, entry.skiKey, entry);
  push(into.byIssuerSerial, entry.issuerSerialKey, entry);
  if (into.trusted && entry.ca) for (const key of keyHashKeys(entry.der)) push(into.byKeyHash, key, entry);
}

/** Removes `entry` from `from` and its indexes. */
function take(from: Tier, entry: Entry): void {
  from.entries.delete(entry.digest);
  from.bytes -= entry.der.length;
  remove(from.bySubject, entry.subjectKey, entry);
  if (entry.skiKey !== undefined) remove(from.bySki, entry.skiKey, entry);
  remove(from.byIssuerSerial, entry.issuerSerialKey, entry);
  if (from.trusted && entry.ca) for (const key of keyHashKeys(entry.der)) remove(from.byKeyHash, key, entry);
}

function keyHashKeys(der: Buffer): string[] {
  return [...issuerHashes(der)].map(([algorithm, hashes]) => `${algorithm}:${hashes.keyHash.toString("hex")}`);
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
    return {
      der,
      digest,
      subjectKey: parsed.fields.subjectDer.toString("hex"),
      skiKey: parsed.subjectKeyId?.toString("hex"),
      issuerSerialKey: `${parsed.fields.issuerDer.toString("hex")}:${parsed.fields.serialNumber.toString("hex")}`,
      ca: parsed.basicConstraints?.ca === true,
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
