/**
 * End to end: many CAs' CRLs published in one folder of a web server (issue 16 item 3), named by
 * its directory index (a node:http server on loopback serving an nginx-style autoindex page and
 * `openssl ca -gencrl` CRLs with ETag and Last-Modified). Each issuer's `crl` source names the list
 * and takes the CRL it issued, asked with `openssl ocsp`; a CA whose CRL joins the list later is
 * picked up on the schedule (also after a damaged copy of it was refused), another CA's CRL under
 * the same name is not downloaded again while unchanged, a CA's CRL published
 * under a new name replaces its old one, and a
 * restart while the web server is down answers from the state folder's copies.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, issueCertificate, publishCrl, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { startCrlServer, type CrlServer } from "../support/crl-server.ts";
import { ocspStatus, until } from "../support/crl-fetching.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** What nginx's autoindex serves for a folder: a link per file, relative, after one to the parent. */
function autoindex(names: readonly string[]): Buffer {
  const links = names.map((name) => `<a href="${name}">${name}</a>                 07-Dec-2026 10:00     1234`).join("\n");
  return Buffer.from(`<html>\n<head><title>Index of /crls/</title></head>\n<body>\n<h1>Index of /crls/</h1><hr><pre><a href="../">../</a>\n${links}\n</pre><hr></body>\n</html>\n`);
}

describe("a web folder listing several CAs' CRLs", () => {
  let first: Pki;
  let second: Pki;
  let third: Pki;
  let later: string;
  let server: CrlServer;
  let vouch: VouchProcess;
  let yaml: string;
  const listed = new Set<string>();

  const publish = async (pki: Pki, name: string, der = false): Promise<void> => {
    const out = join(pki.dir, name);
    await publishCrl(pki, { out, der });
    server.serve(await readFile(out), `/crls/${name}`);
    listed.add(name);
    server.serve(autoindex([...listed, "README.txt"]), "/crls/");
  };

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-crl-list-"));
    [first, second, third] = (await Promise.all(["first", "second", "third"].map((name) => createPki({ dir: join(dir, name) })))) as [Pki, Pki, Pki];
    later = await issueCertificate(second, "later", { commonName: "later.second.vouch.test" });
    server = await startCrlServer("/crls/");
    server.serve(Buffer.from("CRLs of our CAs, published nightly\n"), "/crls/README.txt");
    await publish(first, "first.crl");
    await publish(second, "second.crl", true);
    const source = { type: "crl", lists: [server.url], fetch: { stateFolder: join(dir, "state"), margin: "PT2S", maxInterval: "PT1S", retryInterval: "PT0.2S", maxRetryInterval: "PT1S", timeout: "PT5S" } };
    yaml = vouchConfig({ responders: [testResponder("listed", [first, second, third].map((pki) => pkiIssuer(pki, { sources: [source] })))] });
    vouch = await startVouch(yaml);
  });
  after(async () => {
    await vouch?.stop();
    await server?.close();
  });

  test("each issuer answers from the listed CRL it issued", async () => {
    for (const pki of [first, second]) {
      assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
      assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    }
    assert.equal(await ocspStatus(vouch, second, later), "good");
    // The test PKIs share their CAs' names: a CRL that names an issuer but that its key does not verify is set aside.
    assert.ok(vouch.logs.some((line) => line.msg === "listed CRL names this issuer but fails its checks; not this issuer's"));
    // Looked at again every maxInterval, such a CRL is asked for conditionally: unchanged, it is not downloaded again.
    const downloads = server.downloads.get("/crls/first.crl");
    const lookedAgain = () => vouch.logs.filter((line) => line.msg === "CRL unchanged since it was refused; refused again" && String(line.url).endsWith("/first.crl")).length;
    await until("the first CA's CRL looked at again by the other issuers", async () => lookedAgain(), (count) => count >= 4);
    assert.equal(server.downloads.get("/crls/first.crl"), downloads);
  });

  test("a CA whose CRL joins the list is answered for within the schedule, even after a damaged copy of it was listed", async () => {
    assert.equal(await ocspStatus(vouch, third, third.good), "trylater");
    // First a copy whose signature does not verify (its last octet changed): refused by every issuer of that name.
    const damaged = join(third.dir, "third-damaged.crl");
    await publishCrl(third, { out: damaged, der: true });
    const bytes = await readFile(damaged);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0x01, bytes.length - 1);
    server.serve(bytes, "/crls/third.crl");
    listed.add("third.crl");
    server.serve(autoindex([...listed, "README.txt"]), "/crls/");
    const refusals = () => vouch.logs.filter((line) => line.msg === "listed CRL names this issuer but fails its checks; not this issuer's" && String(line.url).endsWith("/third.crl")).length;
    await until("the damaged CRL refused", async () => refusals(), (count) => count >= 3);
    assert.equal(await ocspStatus(vouch, third, third.good), "trylater");
    // Then the CA's good CRL at the same URL: taken at a later list fetch, without a reload.
    await publish(third, "third.crl");
    await until("the third CA answered", () => ocspStatus(vouch, third, third.revoked), (status) => status === "revoked");
    assert.equal(await ocspStatus(vouch, third, third.good), "good");
  });

  test("a CA's CRL published under a new name replaces its old one", async () => {
    await revokeCertificate(second, later, "keyCompromise");
    listed.delete("second.crl");
    await publish(second, "second-2.crl", true);
    await until("the revocation in answers", () => ocspStatus(vouch, second, later), (status) => status === "revoked");
    assert.equal(await ocspStatus(vouch, second, second.good), "good");
    assert.equal(await ocspStatus(vouch, first, first.revoked), "revoked");
    assert.ok(vouch.logs.some((line) => line.msg === "CRL no longer listed; no longer fetched" && String(line.url).endsWith("/second.crl")));
    // The unchanged list and CRLs are asked for conditionally.
    await until("304 answers", async () => server.answered.get(304) ?? 0, (count) => count >= 4);
  });

  test("restarted while the web server is down, every issuer answers from the state folder", async () => {
    await vouch.stop();
    await server.down();
    vouch = await startVouch(yaml);
    for (const pki of [first, second, third]) assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    assert.equal(await ocspStatus(vouch, second, later), "revoked");
    assert.equal(await ocspStatus(vouch, third, third.good), "good");
  });
});
