/**
 * The cached responder type (SPEC §2 steps 5 and 7, §6) from the outside: a real `vouch serve`,
 * requests made by `openssl ocsp` (and hand-built DER for CertID encodings), responses compared byte
 * for byte. A repeated request without a nonce gets the stored bytes until the entry expires or the
 * index says something else; a nonce or a second certificate signs anew from the sources.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeCertId, issuerHashes } from "../../src/ocsp/cert-id.ts";
import { certificateFields } from "../../src/ocsp/certificate-fields.ts";
import { decodeOcspResponse } from "../../src/ocsp/decode-response.ts";
import { integer, octetString, oid, sequence } from "../../src/ocsp/der-writer.ts";
import { encodeOcspRequest, encodeTbsRequest } from "../../src/ocsp/encode-request.ts";
import { createPki, issueCertificate, readPemDer, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { producedAt } from "../support/produced-at.ts";
import { pkiIssuer, testResponder, vouchConfig, type YamlFields } from "../support/vouch-config.ts";
import { runVouch, startVouch, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

let pki: Pki;
let base: string;
let vouch: VouchProcess;
let single: Buffer;

/** A responder over the test PKI, type cached unless `fields` say otherwise, with `issuers` as its response cache's table (no responseCache when undefined). */
function config(issuers: YamlFields[] | undefined, fields: YamlFields = {}): string {
  const responseCache = issuers === undefined ? {} : { responseCache: { issuers } };
  return vouchConfig({ responders: [testResponder("cached", [pkiIssuer(pki)], { type: "cached", ...responseCache, ...fields })] });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  base = await mkdtemp(join(tmpdir(), "vouch-cache-e2e-"));
  pki = await createPki({ dir: join(base, "pki") });
  single = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
  vouch = await startVouch(config([{ issuer: "cn=*,*", expiresAfter: "PT1H" }]));
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

  test("a nonce-bearing response is answered by the issuer's sources, not from a cached copy", async () => {
    const revokedOnly = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]);
    const cached = await postOcsp(vouch.baseUrl, revokedOnly);
    // Past the second of the cached thisUpdate, so that the fresh lookup shows a later one.
    await sleep(1100);
    const withNonce = await postOcsp(vouch.baseUrl, await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked]));
    assert.deepEqual(certStatuses(withNonce.body), ["revoked"]);
    assert.ok(thisUpdateOf(withNonce.body) > thisUpdateOf(cached.body), "a thisUpdate of its own lookup");
  });

  test("a revocation the index learns reaches the cached answers at once: a cached good is never served after it", async () => {
    const issued = vouch.logs.filter(withMessage("index reloaded")).length;
    const victim = await issueCertificate(pki, "revoked-later", { commonName: "revoked-later.demo.vouch.test" });
    await waitForLogs(vouch, withMessage("index reloaded"), issued + 1);
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", victim, "-no_nonce"]);
    const before = await postOcsp(vouch.baseUrl, request);
    assert.deepEqual(certStatuses(before.body), ["good"]);
    assert.ok((await postOcsp(vouch.baseUrl, request)).body.equals(before.body), "served from the cache");
    const reloads = vouch.logs.filter(withMessage("index reloaded")).length;
    await revokeCertificate(pki, victim, "keyCompromise");
    await waitForLogs(vouch, withMessage("index reloaded"), reloads + 1);
    const after = await postOcsp(vouch.baseUrl, request);
    assert.deepEqual(certStatuses(after.body), ["revoked"], "no nonce");
    assert.deepEqual(certStatuses((await postOcsp(vouch.baseUrl, await opensslRequest(["-issuer", pki.ca, "-cert", victim]))).body), ["revoked"], "with a nonce");
    // The revoked answer replaced the good one, and is served from the cache in turn.
    await sleep(1100);
    assert.ok((await postOcsp(vouch.baseUrl, request)).body.equals(after.body), "the revoked answer is cached");
  });

  test("a hit echoes the request's CertID byte for byte: with and without NULL hash parameters, each encoding its own entry", async () => {
    const caDer = await readPemDer(pki.ca);
    for (const [name, certificate, warmFirst] of [["good", pki.good, "null"], ["revoked", pki.revoked, "absent"]] as const) {
      const serial = certificateFields(await readPemDer(certificate)).serialNumber;
      const ids = { null: encodeCertId("sha1", caDer, serial), absent: certIdWithoutParameters(caDer, serial) };
      const order = warmFirst === "null" ? (["null", "absent"] as const) : (["absent", "null"] as const);
      const first: Record<string, Buffer> = {};
      for (const encoding of order) {
        const response = await postOcsp(vouch.baseUrl, encodeOcspRequest(encodeTbsRequest({ certIds: [ids[encoding]] })));
        assert.deepEqual(answeredCertIds(response.body), [ids[encoding]], `${name}, ${encoding} parameters`);
        first[encoding] = response.body;
      }
      await sleep(1100);
      for (const encoding of order) {
        const again = await postOcsp(vouch.baseUrl, encodeOcspRequest(encodeTbsRequest({ certIds: [ids[encoding]] })));
        assert.ok(again.body.equals(first[encoding]!), `${name}, ${encoding} parameters: a hit, the stored bytes`);
      }
    }
  });
});

/** A SHA-1 CertID whose hash AlgorithmIdentifier has no parameters (RFC 5754 allows both forms). */
function certIdWithoutParameters(issuerDer: Buffer, serial: Buffer): Buffer {
  const hashes = issuerHashes(issuerDer).get("sha1")!;
  return sequence(sequence(oid("1.3.14.3.2.26")), octetString(hashes.nameHash), octetString(hashes.keyHash), integer(serial));
}

/** The CertID TLVs a response answers, in order. */
function answeredCertIds(body: Buffer): Buffer[] {
  const decoded = decodeOcspResponse(body);
  return decoded.status === "successful" ? decoded.basic.responses.map((single) => single.certId.der) : assert.fail(decoded.status);
}

function thisUpdateOf(body: Buffer): number {
  const decoded = decodeOcspResponse(body);
  return decoded.status === "successful" ? decoded.basic.responses[0]!.thisUpdate.getTime() : assert.fail(decoded.status);
}

describe("expiry", () => {
  test("the stored response is served until expiresAfter, then a new one is signed and stored", async () => {
    const short = await startVouch(config([{ issuer: "*", expiresAfter: "PT2S" }]));
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
    const stderr = await refused(config(undefined));
    assert.match(stderr, /responders\[0\]\.responseCache: responder type cached answers from a response cache/);
  });

  test("a basic responder with responseCache", async () => {
    const stderr = await refused(config([{ issuer: "*", expiresAfter: "PT1H" }], { type: "basic" }));
    assert.match(stderr, /responders\[0\]\.responseCache: responder type basic does not use a response cache/);
  });

  test("an issuer row whose pattern is not a DN", async () => {
    const stderr = await refused(config([{ issuer: "not a dn", expiresAfter: "PT1H" }]));
    assert.match(stderr, /responders\[0\]\.responseCache\.issuers\[0\]\.issuer: not an RFC 4514 DN pattern/);
  });
});
