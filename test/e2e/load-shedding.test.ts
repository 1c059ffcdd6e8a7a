/**
 * Load shedding (SPEC §7): with `limits` of one signature in flight and none waiting, a burst of
 * concurrent requests gets some `tryLater` answers at once, every other answer is a good signed
 * response, and the server answers normally after the burst.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp, responseText } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let vouch: VouchProcess;

before(async () => {
  // RSA signs on libuv's thread pool, so requests arriving meanwhile find the one slot taken.
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-shedding-")), "pki"), caKeyType: "rsa-2048" });
  vouch = await startVouch(vouchConfig({ limits: { maxSigningsInFlight: 1, maxSigningQueue: 0 }, responders: [testResponder("tiny", [pkiIssuer(pki)])] }));
});

after(async () => {
  await vouch?.stop();
});

test("a burst beyond the limits gets tryLater at once, every other answer is good, and serving goes on", async () => {
  const url = `${vouch.baseUrl}/`;
  // With a nonce every answer is signed live.
  const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]);
  const seen = new Map<string, number>();
  let tryLater: Buffer | undefined;
  // A busy machine may serialise one burst; a few bursts make an overlap certain enough.
  for (let burst = 0; burst < 10 && tryLater === undefined; burst++) {
    const answers = await Promise.all(Array.from({ length: 48 }, () => postOcsp(url, request, { connection: "close" })));
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      const status = responseStatusName(answer.body);
      seen.set(status, (seen.get(status) ?? 0) + 1);
      if (status === "successful") assert.deepEqual(certStatuses(answer.body), ["good"]);
      else if (status === "tryLater") tryLater = answer.body;
    }
  }
  assert.deepEqual(
    [...seen.keys()].filter((status) => status !== "successful" && status !== "tryLater"),
    [],
    `answers other than successful or tryLater: ${JSON.stringify([...seen])}`,
  );
  assert.ok(tryLater !== undefined, `no tryLater in the bursts: ${JSON.stringify([...seen])}`);
  assert.ok((seen.get("successful") ?? 0) > 0, "some requests were signed");
  const decoded = await responseText(tryLater);
  assert.match(decoded.output, /Responder Error: trylater \(3\)/i, "openssl ocsp reads status 3");

  const afterwards = await postOcsp(url, request);
  assert.equal(responseStatusName(afterwards.body), "successful", "the server answers normally after the burst");
});
