/**
 * Many CAs' CRLs in one folder (issue 16 item 3): two CAs made with `openssl ca`, their CRLs side by
 * side in one folder with a file that is no CRL; each issuer's `crl` source names the folder and
 * takes the CRL it issued, asked with `openssl ocsp`; a CA's republished CRL (the same file replaced)
 * reaches its answers and no other CA's.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, issueCertificate, publishCrl, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { ocspStatus, until } from "../support/crl-fetching.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

describe("a folder holding several CAs' CRLs", () => {
  let first: Pki;
  let second: Pki;
  let later: string;
  let vouch: VouchProcess;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-crl-folder-"));
    const folder = join(dir, "crls");
    await mkdir(folder);
    first = await createPki({ dir: join(dir, "first") });
    second = await createPki({ dir: join(dir, "second") });
    later = await issueCertificate(second, "later", { commonName: "later.second.vouch.test" });
    await publishCrl(first, { out: join(folder, "first.crl") });
    await publishCrl(second, { out: join(folder, "second.crl"), der: true });
    await writeFile(join(folder, "README.txt"), "CRLs of our CAs, published nightly\n");
    const issuer = (pki: Pki) => pkiIssuer(pki, { sources: [{ type: "crl", folder }] });
    vouch = await startVouch(vouchConfig({ responders: [testResponder("folder", [issuer(first), issuer(second)])] }));
  });
  after(async () => {
    await vouch?.stop();
  });

  test("each issuer answers from the CRL it issued", async () => {
    for (const pki of [first, second]) {
      assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
      assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    }
    assert.equal(await ocspStatus(vouch, second, later), "good");
  });

  test("a CA's republished CRL in the folder reaches its answers", async () => {
    await revokeCertificate(second, later, "keyCompromise");
    await publishCrl(second, { out: join(second.dir, "..", "crls", "second.crl"), der: true });
    await until("the revocation in answers", () => ocspStatus(vouch, second, later), (status) => status === "revoked");
    assert.equal(await ocspStatus(vouch, first, first.good), "good");
    assert.equal(await ocspStatus(vouch, second, second.good), "good");
  });
});
