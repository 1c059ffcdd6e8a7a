/**
 * Issue 14 item 4 from the outside: a `basic` responder answers a repeated GET without a nonce with
 * the very same bytes (reuseFor, default PT1M), so a client's If-None-Match with the ETag it was given
 * gets 304; `openssl ocsp` still verifies the answer; a nonce request is signed anew; `openssl ca
 * -revoke` changes the answer at once (the change event drops the reused one); reuseFor PT0S signs
 * every response anew.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { getOcsp, opensslRequest, postOcsp, responseText } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";

const config = (pki: Pki, reuseFor?: string) =>
  vouchConfig({ responders: [testResponder("basic", [pkiIssuer(pki)], reuseFor === undefined ? {} : { reuseFor })] });

describe("reusing signed answers on a basic responder", () => {
  let dir: string;
  let pki: Pki;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-reuse-"));
    pki = await createPki({ dir: join(dir, "pki") });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const getUrl = async (vouch: VouchProcess, certificate: string) =>
    `${vouch.baseUrl}/${encodeURIComponent((await opensslRequest(["-issuer", pki.ca, "-cert", certificate, "-no_nonce"])).toString("base64"))}`;

  test("by default: a repeated GET gets the same bytes, If-None-Match its 304, a nonce a new signature; a revocation changes the answer at once", async () => {
    const vouch = await startVouch(config(pki));
    try {
      const url = await getUrl(vouch, pki.good);
      const first = await getOcsp(url);
      assert.equal(first.status, 200);
      const verified = await responseText(first.body, ["-CAfile", pki.root, "-verify_other", pki.ca]);
      assert.match(verified.output, /Response verify OK/, verified.output);
      // A second apart: a new signature would carry another producedAt.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const second = await getOcsp(url);
      assert.ok(second.body.equals(first.body), "byte-identical");
      const etag = first.headers.get("etag")!;
      assert.equal(second.headers.get("etag"), etag);
      const revalidated = await getOcsp(url, { "if-none-match": etag });
      assert.equal(revalidated.status, 304);
      assert.equal(revalidated.body.length, 0);

      const [a, b] = [
        await postOcsp(`${vouch.baseUrl}/`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good])),
        await postOcsp(`${vouch.baseUrl}/`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good])),
      ];
      assert.match((await responseText(a.body, ["-CAfile", pki.root, "-verify_other", pki.ca])).output, /Response verify OK/);
      assert.ok(!a.body.equals(first.body) && !b.body.equals(a.body), "each nonce request is signed anew");

      await revokeCertificate(pki, pki.good, "keyCompromise");
      const deadline = Date.now() + 10_000;
      let after = await getOcsp(url);
      while (certStatuses(after.body)[0] !== "revoked" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        after = await getOcsp(url);
      }
      assert.deepEqual(certStatuses(after.body), ["revoked"]);
      const stale = await getOcsp(url, { "if-none-match": etag });
      assert.equal(stale.status, 200, "the old ETag no longer matches");
      assert.deepEqual(certStatuses(stale.body), ["revoked"]);
      assert.ok(vouch.logs.some((record) => record.msg === "revocation data change applied"));
    } finally {
      await stopAndExpectZero(vouch);
    }
  });

  test("reuseFor PT0S: every GET is signed anew", async () => {
    const vouch = await startVouch(config(pki, "PT0S"));
    try {
      const url = await getUrl(vouch, pki.revoked);
      const first = await getOcsp(url);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const second = await getOcsp(url);
      assert.deepEqual(certStatuses(second.body), ["revoked"]);
      assert.ok(!second.body.equals(first.body), "a new signature, a new producedAt");
      assert.equal((await getOcsp(url, { "if-none-match": first.headers.get("etag")! })).status, 200);
    } finally {
      await stopAndExpectZero(vouch);
    }
  });
});
