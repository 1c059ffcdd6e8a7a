/**
 * The cached responder type (SPEC §2 steps 5 and 7, §6) from the outside: a real `vouch serve`,
 * requests made by `openssl ocsp`, responses compared byte for byte. A repeated request without a
 * nonce gets the stored bytes until the entry expires; a nonce or a second certificate signs anew.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { producedAt } from "../support/produced-at.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let base: string;
let vouch: VouchProcess;
let single: Buffer;

/** A cached responder over the test PKI; `cache` is the responseCache body (YAML, indented 4). */
function config(cache: string, extra = ""): string {
  return `log: { level: info }
responders:
  - name: cached
    type: cached
    listen: { host: 127.0.0.1, port: 0 }${extra}
    responseCache:
${cache}
    issuers:
      - certificate: ${pki.ca}
        signer: { certificate: ${pki.signer}, key: ${pki.signerKey} }
        sources: [{ type: index, file: ${pki.index} }]
`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  base = await mkdtemp(join(tmpdir(), "vouch-cache-e2e-"));
  pki = await createPki({ dir: join(base, "pki") });
  single = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
  vouch = await startVouch(config(`      issuers: [{ issuer: "cn=*,*", expiresAfter: PT1H }]`));
});

after(async () => {
  await vouch?.stop();
});

describe("a cached responder", () => {
  test("answers a repeated request without a nonce with the same bytes, which openssl verifies", async () => {
    const first = await postOcsp(vouch.baseUrl, single);
    // producedAt has one-second resolution: wait past it, so that a re-signed response would differ.
    await sleep(1100);
    const second = await postOcsp(vouch.baseUrl, single);
    assert.deepEqual(certStatuses(first.body), ["good"]);
    assert.ok(second.body.equals(first.body), "byte-identical");
    assert.equal(second.headers.get("etag"), first.headers.get("etag"));
    const file = join(base, "cached.der");
    await writeFile(file, second.body);
    const checked = await openssl(["ocsp", "-respin", file, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(checked.output, /Response verify OK/);
    assert.match(checked.stdout, /: good/);
  });

  test("a request with a nonce is signed anew and not cached by HTTP caches", async () => {
    await postOcsp(vouch.baseUrl, single);
    const withNonce = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]);
    const first = await postOcsp(vouch.baseUrl, withNonce);
    await sleep(1100);
    const second = await postOcsp(vouch.baseUrl, withNonce);
    assert.deepEqual(certStatuses(second.body), ["good"]);
    assert.ok(producedAt(second.body) > producedAt(first.body), "a fresh signature each time");
    assert.equal(second.headers.get("cache-control"), "no-cache, no-store, max-age=0");
  });

  test("a request for two certificates is signed anew, and answers both", async () => {
    const two = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-cert", pki.revoked, "-no_nonce"]);
    const first = await postOcsp(vouch.baseUrl, two);
    await sleep(1100);
    const second = await postOcsp(vouch.baseUrl, two);
    assert.deepEqual(certStatuses(second.body), ["good", "revoked"]);
    assert.ok(producedAt(second.body) > producedAt(first.body), "a fresh signature each time");
  });

  test("a cached answer is reused inside a nonce-bearing response (local validation looks in the cache first)", async () => {
    const revokedOnly = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]);
    const cached = await postOcsp(vouch.baseUrl, revokedOnly);
    // Past the second of the cached thisUpdate, so that a fresh lookup would show a later one.
    await sleep(1100);
    const withNonce = await postOcsp(vouch.baseUrl, await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked]));
    const file = join(base, "nonce.der");
    const cachedFile = join(base, "revoked.der");
    await writeFile(file, withNonce.body);
    await writeFile(cachedFile, cached.body);
    const times = (text: string) => /This Update: (.+)[\s\S]*Next Update: (.+)/.exec(text)?.slice(1);
    const a = await openssl(["ocsp", "-respin", cachedFile, "-resp_text", "-noverify"]);
    const b = await openssl(["ocsp", "-respin", file, "-resp_text", "-noverify"]);
    assert.ok(times(a.stdout) !== undefined, a.stdout);
    assert.deepEqual(times(b.stdout), times(a.stdout), "same thisUpdate and nextUpdate as the cached answer");
  });
});

describe("expiry", () => {
  test("the stored response is served until expiresAfter, then a new one is signed and stored", async () => {
    const short = await startVouch(config(`      issuers: [{ issuer: "*", expiresAfter: PT2S }]`));
    try {
      const first = await postOcsp(short.baseUrl, single);
      const storedAt = Date.now();
      let current = first.body;
      while (current.equals(first.body)) {
        assert.ok(Date.now() - storedAt < 15_000, "a new response within 15 s");
        await sleep(200);
        current = (await postOcsp(short.baseUrl, single)).body;
      }
      // Never before the entry expired (a lower bound, so it cannot fail on a slow machine).
      assert.ok(Date.now() - storedAt >= 2000 - 50, "the stored response lived its expiresAfter");
      assert.ok(producedAt(current) > producedAt(first.body));
      const again = await postOcsp(short.baseUrl, single);
      assert.ok(again.body.equals(current), "the new response is stored in turn");
    } finally {
      await short.stop();
    }
  });
});

describe("configuration is refused at start, naming the field", () => {
  async function refused(yaml: string): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), "vouch-cache-config-"));
    const file = join(folder, "vouch.yaml");
    await writeFile(file, yaml);
    const result = await runVouch(["serve", "--config", file]);
    assert.notEqual(result.code, 0);
    return result.stderr;
  }

  test("a cached responder without responseCache", async () => {
    const stderr = await refused(config("      issuers: []").replace(/ {4}responseCache:\n.*\n/, ""));
    assert.match(stderr, /responders\[0\]\.responseCache: responder type cached answers from a response cache/);
  });

  test("a basic responder with responseCache", async () => {
    const stderr = await refused(config(`      issuers: [{ issuer: "*", expiresAfter: PT1H }]`).replace("type: cached", "type: basic"));
    assert.match(stderr, /responders\[0\]\.responseCache: responder type basic does not use a response cache/);
  });

  test("an issuer row whose pattern is not a DN", async () => {
    const stderr = await refused(config(`      issuers: [{ issuer: "not a dn", expiresAfter: PT1H }]`));
    assert.match(stderr, /responders\[0\]\.responseCache\.issuers\[0\]\.issuer: not an RFC 4514 DN pattern/);
  });
});
