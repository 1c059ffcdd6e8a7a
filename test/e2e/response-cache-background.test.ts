/**
 * Renewing and pre-production (SPEC §6) from the outside: a real `vouch serve` with a file billing
 * sink, whose records say where each answer came from (SPEC step 9 source: cache / local).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { producedAt } from "../support/produced-at.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { startVouch } from "../support/vouch-process.ts";

let pki: Pki;
let base: string;

/** A `cached` responder billing to files in `billingDirectory`, its response cache's one issuer row `row`. */
function config(billingDirectory: string, row: YamlFields): string {
  return vouchConfig({
    responders: [
      testResponder("cached", [pkiIssuer(pki)], { type: "cached", billing: { sink: "file", directory: billingDirectory, perCert: true }, responseCache: { issuers: [row] } }),
    ],
  });
}

async function billingRecords(directory: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for (const name of (await readdir(directory)).filter((file) => file.endsWith(".jsonl"))) {
    for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
      if (line.trim() !== "") records.push(JSON.parse(line) as Record<string, unknown>);
    }
  }
  return records;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  base = await mkdtemp(join(tmpdir(), "vouch-cache-background-"));
  pki = await createPki({ dir: join(base, "pki") });
});

describe("a cached responder's background work", () => {
  test("cache hits are billed as such, with the cached answer", async () => {
    const directory = join(base, "billing-hits");
    const vouch = await startVouch(config(directory, { issuer: "*", expiresAfter: "PT1H" }));
    try {
      const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]);
      await postOcsp(vouch.baseUrl, request);
      await postOcsp(vouch.baseUrl, request);
      const records = await billingRecords(directory);
      assert.deepEqual(records.map((record) => record.source), ["local", "cache"]);
      assert.equal(records[1]!.singleRequests, 1);
      assert.deepEqual((records[1]!.certificates as { status: string }[]).map((certificate) => certificate.status), ["revoked"]);
    } finally {
      await vouch.stop();
    }
  });

  test("renewing: the stored response is replaced before it expires, without a client asking", async () => {
    const directory = join(base, "billing-renew");
    // Stored for 6 s, renewed 4 s before expiry: about 2 s after it was stored.
    const vouch = await startVouch(config(directory, { issuer: "*", expiresAfter: "PT6S", renew: { margin: "PT4S" } }));
    try {
      const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
      const first = await postOcsp(vouch.baseUrl, request);
      let current = first.body;
      const deadline = Date.now() + 20_000;
      while (current.equals(first.body)) {
        assert.ok(Date.now() < deadline, "a renewed response within 20 s");
        await sleep(250);
        current = (await postOcsp(vouch.baseUrl, request)).body;
      }
      assert.deepEqual(certStatuses(current), ["good"]);
      assert.ok(producedAt(current) > producedAt(first.body), "newer producedAt");
      const records = await billingRecords(directory);
      // The first answer that differs came from the cache: signed in the background, not for this request.
      assert.equal(records.at(-1)!.source, "cache", JSON.stringify(records.map((record) => record.source)));
      assert.equal(records.filter((record) => record.source === "local").length, 1, "only the very first request signed");
    } finally {
      await vouch.stop();
    }
  });

  test("pre-production: after start, the first request for each known certificate is a cache hit", async () => {
    const directory = join(base, "billing-pre");
    const vouch = await startVouch(config(directory, { issuer: "*", expiresAfter: "PT1H", renew: { margin: "PT5M" }, preProduce: { hashAlgorithms: ["sha1", "sha256"] } }));
    try {
      const deadline = Date.now() + 20_000;
      while (!vouch.logs.some((record) => record.msg === "responses pre-produced")) {
        assert.ok(Date.now() < deadline, "pre-production finishes");
        await sleep(50);
      }
      const done = vouch.logs.find((record) => record.msg === "responses pre-produced")!;
      assert.ok((done.stored as number) >= 4, `good, revoked and the signer, twice each: ${JSON.stringify(done)}`);
      const good = await postOcsp(vouch.baseUrl, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]));
      const revoked = await postOcsp(vouch.baseUrl, await opensslRequest(["-issuer", pki.ca, "-sha256", "-cert", pki.revoked, "-no_nonce"]));
      assert.deepEqual(certStatuses(good.body), ["good"]);
      assert.deepEqual(certStatuses(revoked.body), ["revoked"]);
      const records = await billingRecords(directory);
      assert.deepEqual(records.map((record) => record.source), ["cache", "cache"]);
    } finally {
      await vouch.stop();
    }
  });
});
