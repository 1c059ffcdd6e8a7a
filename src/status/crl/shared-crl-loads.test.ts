/**
 * CRLs loaded once for worker threads: in shared memory, verified against their issuer, and taken by
 * a thread's CRL source only for that issuer and only while the file is the one that was loaded.
 */
import assert from "node:assert/strict";
import { appendFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { createPki, publishCrl, readPemDer, type Pki } from "../../pki/openssl-pki.ts";
import { fileSignatureNow } from "../files/stat-signature.ts";
import { loadSharedCrls, offerSharedCrls, takeSharedCrl } from "./shared-crl-loads.ts";
import { certIdOfFiles } from "../test-support/cert-id-fixture.ts";

let pki: Pki;
let issuerDer: Buffer;
let foreignDer: Buffer;

before(async () => {
  pki = await createPki({ dir: await mkdtemp(join(tmpdir(), "vouch-shared-crl-")) });
  await publishCrl(pki);
  issuerDer = await readPemDer(pki.ca);
  foreignDer = await readPemDer(pki.foreignCa);
});

test("a CRL loaded for sharing lives in shared memory and is taken once, for its issuer, while unchanged", async () => {
  const loads = await loadSharedCrls([{ files: [pki.crl], issuerDer }], Date.now());
  assert.equal(loads.length, 1);
  assert.ok(loads[0]!.shares.every((share) => share.pool.buffer instanceof SharedArrayBuffer && share.slots.buffer instanceof SharedArrayBuffer));

  offerSharedCrls(loads);
  assert.equal(takeSharedCrl(pki.crl, foreignDer, fileSignatureNow(pki.crl)), undefined, "not for another issuer");
  offerSharedCrls(loads);
  const taken = takeSharedCrl(pki.crl, issuerDer, fileSignatureNow(pki.crl));
  const revoked = (await certIdOfFiles(pki.revoked, pki.ca)).serialNumber;
  const good = (await certIdOfFiles(pki.good, pki.ca)).serialNumber;
  assert.equal(taken?.entries.lookup(revoked)?.reason, "keyCompromise");
  assert.equal(taken?.entries.lookup(good), undefined);
  assert.equal(takeSharedCrl(pki.crl, issuerDer, fileSignatureNow(pki.crl)), undefined, "taken once");

  offerSharedCrls(loads);
  await appendFile(pki.crl, "\n");
  assert.equal(takeSharedCrl(pki.crl, issuerDer, fileSignatureNow(pki.crl)), undefined, "not once the file changed");
});

test("a CRL that does not verify against the issuer, or cannot be read, is left out (the thread loads it and says why)", async () => {
  const loads = await loadSharedCrls(
    [
      { files: [pki.crl], issuerDer: foreignDer },
      { files: [join(tmpdir(), "no-such.crl")], issuerDer },
      { files: [pki.crl], issuerDer: Buffer.from("not a certificate") },
    ],
    Date.now(),
  );
  assert.deepEqual(loads, []);
});
