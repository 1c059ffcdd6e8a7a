/**
 * The issuer directory finds a CertID's served issuer by what a client sends: the hash algorithm,
 * the issuer key hash and the issuer name hash, all three of which must match.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { HASH_ALGORITHMS, type CertId } from "../ocsp/types.ts";
import { createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { certIdOfFiles } from "../status/test-support/cert-id-fixture.ts";
import { issuerDirectory, type ServedIssuer } from "./issuer-directory.ts";

let pki: Pki;
let served: ServedIssuer;
let foreign: ServedIssuer;

function issuer(name: string, certificate: Buffer): ServedIssuer {
  // Only the certificate matters to the directory; the rest is never looked at.
  return { name, certificate, responseValidityMs: 0, close: () => Promise.resolve() } as unknown as ServedIssuer;
}

before(async () => {
  pki = await createPki({ dir: await mkdtemp(join(tmpdir(), "vouch-issuers-")) });
  served = issuer("ca", await readPemDer(pki.ca));
  foreign = issuer("foreign", await readPemDer(pki.foreignCa));
});

test("each issuer is found by CertIDs in SHA-1, SHA-256, SHA-384 and SHA-512", async () => {
  const directory = issuerDirectory([served, foreign]);
  for (const hash of HASH_ALGORITHMS) {
    assert.equal(directory.find(await certIdOfFiles(pki.good, pki.ca, hash)), served, hash);
    assert.equal(directory.find(await certIdOfFiles(pki.foreign, pki.foreignCa, hash)), foreign, hash);
  }
  assert.deepEqual(directory.all, [served, foreign]);
});

test("a CertID is not found when its name hash, its key hash or its algorithm does not match, or its key hash is short", async () => {
  const directory = issuerDirectory([served]);
  const id = await certIdOfFiles(pki.good, pki.ca, "sha256");
  const flipped = (bytes: Buffer, at: number) => {
    const copy = Buffer.from(bytes);
    copy[at]! ^= 1;
    return copy;
  };
  const variants: CertId[] = [
    { ...id, issuerNameHash: flipped(id.issuerNameHash, 0) },
    { ...id, issuerKeyHash: flipped(id.issuerKeyHash, 0) },
    { ...id, issuerKeyHash: flipped(id.issuerKeyHash, id.issuerKeyHash.length - 1) },
    { ...id, hashAlgorithm: "sha384" },
    { ...id, issuerKeyHash: id.issuerKeyHash.subarray(0, 3) },
    { ...id, issuerKeyHash: Buffer.alloc(0) },
  ];
  assert.equal(directory.find(id), served);
  for (const variant of variants) assert.equal(directory.find(variant), undefined);
  assert.equal(issuerDirectory([foreign]).find(id), undefined);
});
