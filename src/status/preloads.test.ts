/**
 * Tables loaded once for worker threads: in shared memory, CRLs verified against their issuer and
 * used by a thread's CRL source only for that issuer and only while the file is the one that was loaded.
 */
import assert from "node:assert/strict";
import { appendFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { createPki, publishCrl, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { fileSignatureNow } from "./files/stat-signature.ts";
import { loadPreloadedTables, preloadedCrl, preloadedIndex } from "./preloads.ts";
import { certIdOfFiles } from "./test-support/cert-id-fixture.ts";

let pki: Pki;
let issuerDer: Buffer;
let foreignDer: Buffer;

before(async () => {
  pki = await createPki({ dir: await mkdtemp(join(tmpdir(), "vouch-shared-crl-")) });
  await publishCrl(pki);
  issuerDer = await readPemDer(pki.ca);
  foreignDer = await readPemDer(pki.foreignCa);
});

test("a CRL loaded for sharing lives in shared memory and is used for its issuer, while unchanged; an index too", async () => {
  const tables = await loadPreloadedTables([pki.index], [{ files: [pki.crl], issuerDer }], Date.now());
  const loads = tables.crls;
  assert.equal(loads.length, 1);
  assert.ok(loads[0]!.shares.every((share) => share.pool.buffer instanceof SharedArrayBuffer && share.slots.buffer instanceof SharedArrayBuffer));
  assert.ok(preloadedIndex(tables, pki.index)!.parts.pool.buffer instanceof SharedArrayBuffer);
  assert.equal(preloadedIndex(tables, pki.crl), undefined);

  assert.equal(preloadedCrl(tables, pki.crl, foreignDer, fileSignatureNow(pki.crl)), undefined, "not for another issuer");
  const taken = preloadedCrl(tables, pki.crl, issuerDer, fileSignatureNow(pki.crl));
  const revoked = (await certIdOfFiles(pki.revoked, pki.ca)).serialNumber;
  const good = (await certIdOfFiles(pki.good, pki.ca)).serialNumber;
  assert.equal(taken?.entries.lookup(revoked)?.reason, "keyCompromise");
  assert.equal(taken?.entries.lookup(good), undefined);
  // Handed down explicitly, tables are kept only as long as whoever holds them: nothing is consumed or expires.
  assert.notEqual(preloadedCrl(tables, pki.crl, issuerDer, fileSignatureNow(pki.crl)), undefined, "the same tables answer every source built from them");

  await appendFile(pki.crl, "\n");
  assert.equal(preloadedCrl(tables, pki.crl, issuerDer, fileSignatureNow(pki.crl)), undefined, "not once the file changed");
});

test("a CRL that does not verify against the issuer, or cannot be read, and an index that cannot be read, are left out (the thread loads it and says why)", async () => {
  const tables = await loadPreloadedTables(
    [join(tmpdir(), "no-such-index.txt")],
    [
      { files: [pki.crl], issuerDer: foreignDer },
      { files: [join(tmpdir(), "no-such.crl")], issuerDer },
      { files: [pki.crl], issuerDer: Buffer.from("not a certificate") },
    ],
    Date.now(),
  );
  assert.deepEqual(tables, { indexes: [], crls: [] });
});
