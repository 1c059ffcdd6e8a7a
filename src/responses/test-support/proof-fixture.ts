/**
 * Test support (not a test): a small hierarchy for freshness proofs, and real OCSP responses about
 * its certificates made by OpenSSL's responder (offline: `openssl ocsp -index … -reqin … -respout`).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../clock.ts";
import { openssl } from "../../pki/openssl-pki.ts";
import { EXT, certificateMaker, type CertificateMaker, type Made } from "../../trust/test-support/openssl-certificates.ts";
import { cacheKey } from "../cache-key.ts";
import { cachedResponse } from "../cached-single.ts";
import type { CachedResponse, ResponseCache, ResponseToCache } from "../response-cache.ts";

export interface ProofFixture {
  readonly maker: CertificateMaker;
  /** Trust anchor. */
  readonly root: Made;
  /** The requestor's CA, issued by root. */
  readonly ca: Made;
  /** Signs requests; issued by ca. */
  readonly requestor: Made;
  /** A CA-designated OCSP responder of ca (id-kp-OCSPSigning, ocsp-nocheck). */
  readonly responder: Made;
  /** A CA that has nothing to do with the others. */
  readonly stranger: Made;
}

export const RESPONDER_EXTENSIONS = [
  "basicConstraints = critical,CA:FALSE",
  "keyUsage = critical,digitalSignature",
  "extendedKeyUsage = critical,OCSPSigning",
  "noCheck = ignored",
  "subjectKeyIdentifier = hash",
  "authorityKeyIdentifier = keyid:always",
];

export async function proofFixture(): Promise<ProofFixture> {
  const maker = await certificateMaker();
  const root = await maker.selfSigned("root", { subject: "/C=SE/O=Proof/CN=Root", extensions: EXT.root });
  const ca = await maker.issue("ca", root, { subject: "/C=SE/O=Proof/CN=Client CA", extensions: EXT.ca });
  const requestor = await maker.issue("requestor", ca, { subject: "/C=SE/O=Proof/CN=Requestor", extensions: EXT.leaf });
  const responder = await maker.issue("responder", ca, { subject: "/C=SE/O=Proof/CN=Client CA OCSP", extensions: RESPONDER_EXTENSIONS });
  const stranger = await maker.selfSigned("stranger", { subject: "/C=SE/O=Elsewhere/CN=Stranger", extensions: EXT.root });
  return { maker, root, ca, requestor, responder, stranger };
}

export interface ProofOptions {
  readonly status?: "good" | "revoked";
  /** Who signs (default: the issuer itself). */
  readonly signer?: Made;
  /** Put a nonce in the request, which OpenSSL echoes. */
  readonly nonce?: boolean;
  /** Minutes to nextUpdate (default 60). */
  readonly validMinutes?: number;
  readonly hash?: "sha1" | "sha256";
}

let counter = 0;

/** An OCSPResponse (DER) about `subject` from its `issuer`'s OpenSSL responder. */
export async function opensslProof(fixture: ProofFixture, subject: Made, issuer: Made, options: ProofOptions = {}): Promise<Buffer> {
  const dir = fixture.maker.dir;
  const name = `proof-${++counter}`;
  const serial = subject.serial.toUpperCase();
  const line = options.status === "revoked" ? `R\t351231235959Z\t240101000000Z,keyCompromise\t${serial}\tunknown\t/CN=x\n` : `V\t351231235959Z\t\t${serial}\tunknown\t/CN=x\n`;
  await writeFile(join(dir, `${name}.index`), line);
  const signer = options.signer ?? issuer;
  await openssl([
    "ocsp", `-${options.hash ?? "sha1"}`, "-issuer", issuer.pem, "-cert", subject.pem, ...(options.nonce === true ? [] : ["-no_nonce"]), "-reqout", join(dir, `${name}.req`),
  ]);
  await openssl([
    "ocsp", "-index", join(dir, `${name}.index`), "-CA", issuer.pem, "-rsigner", signer.pem, "-rkey", signer.key, "-reqin", join(dir, `${name}.req`),
    "-respout", join(dir, `${name}.resp`), "-nmin", String(options.validMinutes ?? 60),
  ]);
  return readFile(join(dir, `${name}.resp`));
}

/**
 * A ResponseCache over a Map, keeping everything it is given until nextUpdate (no per-issuer table,
 * no bounds): for tests of the producers and readers of the cache, not of the cache itself.
 */
export function mapResponseCache(clock: Clock): ResponseCache & { readonly entries: Map<string, ResponseToCache> } {
  const entries = new Map<string, ResponseToCache>();
  return {
    entries,
    async get(id): Promise<CachedResponse | undefined> {
      const entry = entries.get(cacheKey(id));
      if (entry === undefined || entry.nextUpdate.getTime() <= clock.now()) return undefined;
      return cachedResponse({ body: entry.body, thisUpdate: entry.thisUpdate, nextUpdate: entry.nextUpdate, producedAt: entry.producedAt, expiresAt: entry.nextUpdate.getTime() }, entry);
    },
    async put(id, response) {
      entries.set(cacheKey(id), response);
    },
    async close() {},
  };
}
