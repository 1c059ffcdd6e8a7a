import assert from "node:assert/strict";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { publishCrl, readPemDer } from "../../pki/openssl-pki.ts";
import { pkiSuite, type PkiSuite } from "../test-support/pki-suite.ts";
import { crlFilesIssuedBy, crlIssuerName } from "./crl-folder.ts";
import { parseCrl } from "./crl-parse.ts";

let suite: PkiSuite;
before(async () => {
  suite = await pkiSuite("vouch-crl-folder-");
  await publishCrl(suite.pki, { crlExtensions: ["freshestCRL = URI:http://127.0.0.1/delta.crl, URI:ldap://127.0.0.1/cn=CA?certificateRevocationList;binary"] });
});
after(() => suite?.remove());

test("a CRL's issuer Name from its first octets only, PEM or DER; nothing for what is no CRL", async () => {
  const subject = certificateFields(suite.issuer).subjectDer;
  const pem = await readFile(suite.pki.crl);
  const der = await readPemDer(suite.pki.crl);
  assert.deepEqual(crlIssuerName(der), subject);
  // Cut just past the issuer: the rest of the CRL is not needed.
  const issuerEnd = der.indexOf(subject) + subject.length;
  assert.deepEqual(crlIssuerName(der.subarray(0, issuerEnd)), subject);
  assert.equal(crlIssuerName(der.subarray(0, issuerEnd - 1)), undefined);
  assert.deepEqual(crlIssuerName(pem), subject);
  assert.equal(crlIssuerName(suite.issuer), undefined, "a certificate is not a CRL: its third element is no Name");
  assert.equal(crlIssuerName(Buffer.from("CRLs of our CAs\n")), undefined);
});

test("the Freshest CRL extension's URIs, in order", async () => {
  assert.deepEqual(parseCrl(await readPemDer(suite.pki.crl)).freshestCrl, ["http://127.0.0.1/delta.crl", "ldap://127.0.0.1/cn=CA?certificateRevocationList;binary"]);
});

test("a folder's CRLs: not the names a publisher is still writing, nor hidden files", async () => {
  const folder = join(suite.dir, "published");
  await mkdir(folder);
  for (const name of ["ca.crl", "ca.crl.new", "ca.crl.tmp", "ca.crl.part", "ca.crl~", ".ca.crl"]) await copyFile(suite.pki.crl, join(folder, name));
  assert.deepEqual(await crlFilesIssuedBy(folder, certificateFields(suite.issuer).subjectDer), [join(folder, "ca.crl")]);
});
