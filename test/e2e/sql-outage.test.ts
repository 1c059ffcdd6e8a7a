/**
 * Issue 12 item 7 from the outside: a running `vouch serve` whose sql source reads PostgreSQL
 * through a TCP proxy the test controls (the shared server itself is never touched). The proxy
 * resets every connection, or goes silent; meanwhile `vouch store revoke` (straight to the
 * database) revokes a certificate. `openssl ocsp` must never hear `good` with a nextUpdate past the
 * last time Vouch confirmed its data + the configured limit; past that limit it hears tryLater and
 * /readyz is 503 naming the sql store; when the proxy forwards again, Vouch recovers by itself and
 * answers the revocation made during the outage.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { tcpProxy, type TcpProxy } from "../../src/billing/test-support/tcp-proxy.ts";
import { certificateSerial, createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { testStore, type TestStore } from "../../src/status/sql/test-support/stores.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** What `openssl ocsp` made of one answer about pki.good. */
type Heard = { verdict: "good" | "revoked"; thisUpdate: number; nextUpdate: number } | { verdict: "tryLater" };

async function ask(vouch: VouchProcess, pki: Pki): Promise<Heard> {
  const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca, "-resp_text"]);
  if (/Responder Error: trylater/.test(result.output)) return { verdict: "tryLater" };
  assert.match(result.output, /Response verify OK/, result.output);
  const verdict = /: (good|revoked)\n/.exec(result.stdout)?.[1];
  const times = (label: string) => Date.parse(new RegExp(`${label}: (.+ GMT)`).exec(result.stdout)?.[1] ?? "");
  assert.ok(verdict === "good" || verdict === "revoked", result.output);
  const heard = { verdict, thisUpdate: times("This Update"), nextUpdate: times("Next Update") } as const;
  assert.ok(!Number.isNaN(heard.thisUpdate) && !Number.isNaN(heard.nextUpdate), result.stdout);
  return heard;
}

async function readyz(admin: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${admin}/readyz`);
  return { status: response.status, body: await response.text() };
}

describe("an sql source on PostgreSQL during an outage (issue 12 item 7)", () => {
  let dir: string;
  let pki: Pki;
  let goodSerial: string;
  const stores: TestStore[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vouch-sql-outage-"));
    pki = await createPki({ dir: join(dir, "pki") });
    goodSerial = await certificateSerial(pki.good);
  });
  after(async () => {
    for (const store of stores) await store.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const variants: { name: string; cut: (proxy: TcpProxy) => void; responseValidity: string; maxStaleness?: string; limitMs: number }[] = [
    // The limit defaults to the responder's responseValidity...
    { name: "connections reset", cut: (proxy) => proxy.reset(), responseValidity: "PT4S", limitMs: 4000 },
    // ...or is the source's own maxStaleness, shorter than the responses' validity.
    { name: "network silent (bytes dropped, nothing closed)", cut: (proxy) => proxy.silence(), responseValidity: "PT1H", maxStaleness: "PT4S", limitMs: 4000 },
  ];
  for (const variant of variants) {
    test(`${variant.name}: good only until the last confirmation + the limit, then tryLater and /readyz 503; back by itself with the revocation`, { timeout: 120_000 }, async () => {
      const store = await testStore("postgres");
      stores.push(store);
      const imported = await runVouch(["store", "import-index", pki.index, ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
      assert.equal(imported.code, 0, imported.stderr);
      const proxy = await tcpProxy(Number(new URL(store.database).port || 5432));
      const proxied = Object.assign(new URL(store.database), { port: String(proxy.port) }).toString();
      let vouch: VouchProcess | undefined;
      try {
        const source = { type: "sql", database: proxied, schema: store.schema, pollInterval: "PT0.2S", ...(variant.maxStaleness === undefined ? {} : { maxStaleness: variant.maxStaleness }) };
        vouch = await startVouch(
          vouchConfig({
            admin: { listen: { host: "127.0.0.1", port: 0 }, readiness: { signerTestInterval: "PT1S" } },
            responders: [testResponder("sql", [pkiIssuer(pki, { sources: [source] })], { listen: { port: 0 }, responseValidity: variant.responseValidity })],
          }),
        );
        await outage(vouch, proxy, variant, store);
      } finally {
        await vouch?.stop();
        await proxy.stop();
      }
    });
  }

  /** The outage itself, against a started `vouch`. */
  async function outage(vouch: VouchProcess, proxy: TcpProxy, variant: { cut: (proxy: TcpProxy) => void; limitMs: number }, store: TestStore): Promise<void> {
    const admin = `http://127.0.0.1:${(await waitUntil("the admin listener", () => vouch.logs.find((line) => line.msg === "admin listening"))).port as number}`;
    const healthy = await ask(vouch, pki);
    assert.equal(healthy.verdict, "good");
    assert.equal(healthy.verdict === "good" && healthy.nextUpdate - healthy.thisUpdate, variant.limitMs, "nextUpdate = last confirmation + the limit");
    assert.equal((await readyz(admin)).status, 200);

    variant.cut(proxy);
    const cutAt = Date.now();
    const revoke = await runVouch(["store", "revoke", goodSerial, "--reason", "keyCompromise", ...store.args, "--issuer", pki.ca], { timeoutMs: 30_000 });
    assert.equal(revoke.code, 0, revoke.stderr);

    // Until the limit: good from what Vouch read before the outage, promising no more than that
    // data has. Then tryLater, however long the outage lasts.
    await waitUntil(
      "tryLater once the data is older than the limit",
      async () => {
        const heard = await ask(vouch, pki);
        if (heard.verdict === "tryLater") return true;
        assert.equal(heard.verdict, "good", "the revocation cannot arrive during the outage");
        assert.ok(heard.thisUpdate <= cutAt, `thisUpdate ${new Date(heard.thisUpdate).toISOString()} is no later than the outage (${new Date(cutAt).toISOString()})`);
        assert.ok(heard.nextUpdate <= heard.thisUpdate + variant.limitMs, `nextUpdate ${new Date(heard.nextUpdate).toISOString()} promises more than the data has`);
        return false;
      },
      120,
      100,
    );
    const ready = await waitUntil("/readyz to name the unreadable sql store", async () => {
      const answer = await readyz(admin);
      return answer.status === 503 && answer.body.includes("cannot be read") ? answer : undefined;
    }, 150, 100);
    assert.match(ready.body, /revocation data is past its nextUpdate \(.*\): the sql store postgres:\/\/.* cannot be read: /);
    assert.equal((await ask(vouch, pki)).verdict, "tryLater", "still tryLater while the outage lasts");
    assert.ok(vouch.logs.some((line) => line.msg === "sql store refresh failed; answering from the last data read until it is older than maxStaleness"));

    await proxy.start();
    await waitUntil("the revocation made during the outage", async () => (await ask(vouch, pki)).verdict === "revoked", 150, 100);
    await waitUntil("/readyz 200 again", async () => (await readyz(admin)).status === 200, 100, 100);
    assert.ok(vouch.logs.some((line) => line.msg === "sql store reachable again"));
  }
});
