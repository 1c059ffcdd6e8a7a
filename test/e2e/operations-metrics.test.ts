/**
 * The operator's metrics, scraped from the admin listener of a real `vouch serve` after the events
 * that move them: the response cache filling past its count (entries, bytes, an eviction), a remote
 * responder that refuses connections (its circuit opens), and a client connection held open.
 * Reloads, worker restarts, billing batches and Redis are scraped in reload-outcome.test.ts and
 * readiness-components.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { adminUrl, scrape } from "../support/admin.ts";
import { freePort } from "../support/free-port.ts";
import { openssl } from "../support/openssl.ts";
import { sampleValue } from "../support/prometheus.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let vouch: VouchProcess;
let admin: string;
let deadUrl: string;

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-ops-metrics-")), "pki") });
  // Nothing listens there: every forwarded request fails at once.
  deadUrl = `http://127.0.0.1:${await freePort()}/`;
  vouch = await startVouch(
    vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: 0 } },
      responders: [
        testResponder("cached", [pkiIssuer(pki)], { type: "cached", path: "/cached", responseCache: { maxCount: 2, issuers: [{ issuer: "*", expiresAfter: "PT1H" }] } }),
        testResponder("forwarding", [pkiIssuer(pki)], {
          path: "/forwarding",
          forwarding: { methods: ["table"], table: [{ issuer: "*", url: deadUrl }], retries: 0, breaker: { failures: 2, coolDown: "PT1H" } },
        }),
      ],
    }),
  );
  admin = await adminUrl(vouch);
});

after(async () => {
  await vouch?.stop();
});

const ask = (path: string, target: string[]) => openssl(["ocsp", "-url", `${vouch.baseUrl}${path}`, "-issuer", pki.ca, ...target, "-no_nonce", "-noverify"]);

test("the response cache: entries and bytes now, and one eviction once a third response needs the room of two", async () => {
  const before = await scrape(admin);
  assert.equal(sampleValue(before, "vouch_response_cache_entries", { responder: "cached" }), 0);
  assert.equal(sampleValue(before, "vouch_response_cache_evictions_total", { responder: "cached" }), 0);
  for (const target of [["-cert", pki.good], ["-cert", pki.revoked]]) assert.match((await ask("/cached", target)).stdout, /: (good|revoked)/);
  const two = await scrape(admin);
  assert.equal(sampleValue(two, "vouch_response_cache_entries", { responder: "cached" }), 2);
  assert.ok(sampleValue(two, "vouch_response_cache_bytes", { responder: "cached" }) > 2 * 256, "two bodies and their overhead");
  assert.equal(sampleValue(two, "vouch_response_cache_evictions_total", { responder: "cached" }), 0);
  assert.match((await ask("/cached", ["-serial", "0x7A7A"])).stdout, /: good|: unknown/);
  const three = await scrape(admin);
  assert.equal(sampleValue(three, "vouch_response_cache_entries", { responder: "cached" }), 2);
  assert.equal(sampleValue(three, "vouch_response_cache_evictions_total", { responder: "cached" }), 1);
});

test("a remote responder that refuses connections: its URL's circuit shows open after the threshold", async () => {
  // The issuer is served here too: local validation answers when forwarding fails (SPEC step 6).
  for (let i = 0; i < 2; i++) assert.match((await ask("/forwarding", ["-cert", pki.good])).stdout, /good\.pem: good/);
  const samples = await scrape(admin);
  const state = (name: string) => sampleValue(samples, "vouch_forwarding_circuit_state", { responder: "forwarding", url: deadUrl, state: name });
  assert.deepEqual([state("closed"), state("half-open"), state("open")], [0, 0, 1]);
});

test("open connections per listener: a held connection counts until it closes", async () => {
  const listener = `127.0.0.1:${vouch.port}`;
  const open = async () => sampleValue(await scrape(admin), "vouch_open_connections", { listener });
  const idle = await open();
  const socket = connect(vouch.port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  await waitUntil("the connection to be counted", async () => (await open()) === idle + 1);
  socket.destroy();
  await waitUntil("the closed connection to leave the count", async () => (await open()) === idle);
});
