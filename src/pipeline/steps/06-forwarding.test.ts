/**
 * The forwarding step's decisions, with hand-written fakes for discovery and the remote (the real
 * client runs in remote-responder.test.ts and test/e2e/forwarding.test.ts) and real responses made
 * by OpenSSL's responder.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fixedClock } from "../../clock.ts";
import { TryLaterError } from "../../errors.ts";
import type { DiscoveryMethod, UrlDiscovery } from "../../forwarding/discovery.ts";
import type { RemoteAnswer, RemoteResponder } from "../../forwarding/remote-responder.ts";
import { decodeOcspRequest } from "../../ocsp/decode-request.ts";
import { decodeOcspResponse } from "../../ocsp/decode-response.ts";
import type { CertId } from "../../ocsp/types.ts";
import { silentLogger } from "../../observability/logger.ts";
import { createPki, readPemDer, type Pki } from "../../pki/openssl-pki.ts";
import type { ResponseCache, ResponseToCache } from "../../responses/response-cache.ts";
import { nameMatcher } from "../../trust/name-match.ts";
import { openssl } from "../../../test/support/openssl.ts";
import { servedIssuersOf } from "../decode.ts";
import { createExchange, type Exchange } from "../exchange.ts";
import type { IssuerDirectory, ServedIssuer } from "../../issuers/issuer-directory.ts";
import { forwardingStep, type ForwardingOptions } from "./06-forwarding.ts";
import { askBackEnd, backEndProducer } from "../../forwarding/back-end.ts";
import { forwarder, type ForwarderOptions } from "../../forwarding/forwarder.ts";

let pki: Pki;
let folder: string;
let caDer: Buffer;
let counter = 0;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-forwarding-step-"));
  pki = await createPki({ dir: join(folder, "pki") });
  caDer = await readPemDer(pki.ca);
});

/** A request for `certs` and OpenSSL's responder's answer to it. */
async function made(certs: readonly string[], requestArgs: readonly string[] = ["-no_nonce"]): Promise<{ request: Buffer; response: Buffer }> {
  const name = `s${counter++}`;
  const requestFile = join(folder, `${name}.req`);
  const responseFile = join(folder, `${name}.resp`);
  assert.equal((await openssl(["ocsp", "-issuer", pki.ca, ...certs.flatMap((cert) => ["-cert", cert]), "-reqout", requestFile, ...requestArgs])).code, 0);
  const answer = await openssl(["ocsp", "-index", pki.index, "-rsigner", pki.signer, "-rkey", pki.signerKey, "-CA", pki.ca, "-reqin", requestFile, "-respout", responseFile, "-ndays", "1"]);
  assert.equal(answer.code, 0, answer.output);
  return { request: await readFile(requestFile), response: await readFile(responseFile) };
}

/** Discovery that names `urls[method]` for every request, allowed unless listed in `refused`. */
const naming = (urls: Partial<Record<DiscoveryMethod, string>>, refused: readonly DiscoveryMethod[] = []): UrlDiscovery => ({
  find: (method) => (urls[method] === undefined ? undefined : { url: new URL(urls[method]), allowed: !refused.includes(method) }),
});

/** A remote that answers `body` at every URL and records where it was asked. */
function answering(body: Buffer | undefined): RemoteResponder & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    ask: async (url): Promise<RemoteAnswer> => {
      asked.push(url.href);
      return body === undefined ? { ok: false, failure: "connection", detail: "ECONNREFUSED", attempts: 1 } : { ok: true, response: decodeOcspResponse(body), attempts: 1 };
    },
  };
}

function recordingCache(): ResponseCache & { puts: { id: CertId; response: ResponseToCache }[] } {
  const puts: { id: CertId; response: ResponseToCache }[] = [];
  return { puts, get: async () => undefined, put: async (id, response) => void puts.push({ id, response }), close: async () => {} };
}

const SERVING_NOTHING: IssuerDirectory = { all: [], find: () => undefined };

function step(extra: Partial<ForwarderOptions> & Partial<Omit<ForwardingOptions, "forwarder">> & Pick<ForwarderOptions, "remote">) {
  const { responseCache, ...rest } = extra;
  return forwardingStep({
    forwarder: forwarder({
      methods: ["servicelocator", "table", "fromcert"],
      discovery: naming({ table: "http://remote.example/ocsp" }),
      onlyForIssuer: undefined,
      checks: { verifySignature: true, trustedResponders: [], signerNames: undefined, nonce: "required", allowUnknown: true, clockSkewMs: 300_000 },
      issuerOf: () => caDer,
      clock: fixedClock(Date.now()),
      logger: silentLogger,
      ...rest,
    }),
    ...(responseCache === undefined ? {} : { responseCache }),
    logger: silentLogger,
  });
}

/** The exchange of `request` once decoded, its served issuers looked up in `issuers` (as the pipeline does). */
function exchangeFor(request: Buffer, issuers: IssuerDirectory = SERVING_NOTHING): Exchange {
  const exchange = createExchange({ received: request, method: "POST", clientAddress: "127.0.0.1", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: Date.now() });
  exchange.request = decodeOcspRequest(request);
  exchange.servedIssuers = servedIssuersOf(exchange.request, issuers);
  return exchange;
}

describe("forwardingStep", () => {
  test("an accepted answer is the response as received, with the answers for billing, a cache window, and a copy in the response cache", async () => {
    const { request, response } = await made([pki.good]);
    const cache = recordingCache();
    const exchange = exchangeFor(request);
    await step({ remote: answering(response), responseCache: cache }).run(exchange);
    assert.deepEqual(exchange.response?.body, response);
    assert.equal(exchange.source, "forward");
    assert.deepEqual(exchange.answers?.map((answer) => answer.status.kind), ["good"]);
    assert.ok(exchange.response?.cacheWindow !== undefined);
    assert.equal(cache.puts.length, 1);
    assert.deepEqual(cache.puts[0]!.response.body, response);
    assert.deepEqual(cache.puts[0]!.id.der, exchange.request!.requests[0]!.certId.der);
  });

  test("with a nonce, or two certificates, there is no cache window and nothing is stored", async () => {
    for (const [certs, args] of [[[pki.good], ["-nonce"]], [[pki.good, pki.revoked], ["-no_nonce"]]] as const) {
      const { request, response } = await made(certs, args);
      const cache = recordingCache();
      const exchange = exchangeFor(request);
      await step({ remote: answering(response), responseCache: cache }).run(exchange);
      assert.deepEqual(exchange.response?.body, response);
      assert.equal(exchange.response?.cacheWindow, undefined);
      assert.equal(cache.puts.length, 0);
    }
  });

  test("a URL outside allowedUrls is not asked, but counted, and the next method's URL is", async () => {
    const { request, response } = await made([pki.good]);
    const remote = answering(response);
    const refused: DiscoveryMethod[] = [];
    const discovery = naming({ servicelocator: "http://internal.example/", fromcert: "http://internal.example/x", table: "http://remote.example/ocsp" }, ["servicelocator", "fromcert"]);
    const exchange = exchangeFor(request);
    await step({ remote, discovery, methods: ["servicelocator", "fromcert", "table"], onRefusedUrl: (method) => refused.push(method) }).run(exchange);
    assert.deepEqual(exchange.response?.body, response);
    assert.deepEqual(remote.asked, ["http://remote.example/ocsp"]);
    assert.deepEqual(refused, ["servicelocator", "fromcert"]);
  });

  test("no method names a URL: nothing is forwarded and local validation answers", async () => {
    const { request } = await made([pki.good]);
    const remote = answering(undefined);
    const exchange = exchangeFor(request);
    await step({ remote, discovery: naming({}) }).run(exchange);
    assert.equal(exchange.response, undefined);
    assert.deepEqual(remote.asked, []);
  });

  test("every URL fails: tryLater for an issuer served elsewhere, local validation for one served here; a URL is tried once", async () => {
    const { request } = await made([pki.good]);
    const remote = answering(undefined);
    const discovery = naming({ servicelocator: "http://a.example/", table: "http://a.example/", fromcert: "http://b.example/" });
    await assert.rejects(async () => step({ remote, discovery }).run(exchangeFor(request)), TryLaterError);
    assert.deepEqual(remote.asked, ["http://a.example/", "http://b.example/"]);
    const servedHere: IssuerDirectory = { all: [], find: () => ({ certificate: caDer }) as unknown as ServedIssuer };
    const exchange = exchangeFor(request, servedHere);
    await step({ remote, discovery }).run(exchange);
    assert.equal(exchange.response, undefined);
  });

  test("a refused answer falls to the next method's URL", async () => {
    const { request, response } = await made([pki.good]);
    const refusedFirst: RemoteResponder & { asked: string[] } = {
      asked: [],
      async ask(url) {
        this.asked.push(url.href);
        const body = url.hostname === "first.example" ? (await made([pki.revoked])).response : response;
        return { ok: true, response: decodeOcspResponse(body), attempts: 1 };
      },
    };
    const exchange = exchangeFor(request);
    await step({ remote: refusedFirst, discovery: naming({ table: "http://first.example/", fromcert: "http://second.example/" }) }).run(exchange);
    assert.deepEqual(refusedFirst.asked, ["http://first.example/", "http://second.example/"]);
    assert.deepEqual(exchange.response?.body, response);
  });

  test("onlyForIssuer: an issuer that does not match, or is unknown, is not forwarded", async () => {
    const { request, response } = await made([pki.good]);
    const remote = answering(response);
    for (const extra of [{ onlyForIssuer: nameMatcher(["cn=Other,*"], "only") }, { onlyForIssuer: nameMatcher(["*"], "only"), issuerOf: () => undefined }]) {
      const exchange = exchangeFor(request);
      await step({ remote, ...extra }).run(exchange);
      assert.equal(exchange.response, undefined);
    }
    assert.deepEqual(remote.asked, []);
    const exchange = exchangeFor(request);
    await step({ remote, onlyForIssuer: nameMatcher(["cn=Vouch Demo Issuing CA,*"], "only") }).run(exchange);
    assert.deepEqual(exchange.response?.body, response);
  });

  test("a request about two issuers is not forwarded", async () => {
    const requestFile = join(folder, "two-issuers.req");
    assert.equal((await openssl(["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-issuer", pki.foreignCa, "-cert", pki.foreign, "-reqout", requestFile])).code, 0);
    const remote = answering(undefined);
    const exchange = exchangeFor(await readFile(requestFile));
    await step({ remote }).run(exchange);
    assert.deepEqual(remote.asked, []);
  });
});

describe("the back end for background work (renewing forwarded issuers, own-chain proofs)", () => {
  const forwarderWith = (remote: RemoteResponder) =>
    forwarder({
      methods: ["table"],
      discovery: naming({ table: "http://remote.example/ocsp" }),
      onlyForIssuer: undefined,
      remote,
      checks: { verifySignature: true, trustedResponders: [], signerNames: undefined, nonce: "required", allowUnknown: true, clockSkewMs: 300_000 },
      issuerOf: () => caDer,
      clock: fixedClock(Date.now()),
      logger: silentLogger,
    });

  test("a CertID is asked the way a client asks (no nonce) and the checked answer comes back as received, ready to cache", async () => {
    const { request, response } = await made([pki.revoked]);
    const certId = decodeOcspRequest(request).requests[0]!.certId;
    const remote = answering(response);
    const produced = await backEndProducer(forwarderWith(remote)).produce(certId, new AbortController().signal);
    assert.deepEqual(remote.asked, ["http://remote.example/ocsp"]);
    assert.deepEqual(produced?.body, response);
    assert.ok(produced !== undefined && produced.nextUpdate > produced.thisUpdate);
    const answer = await askBackEnd(forwarderWith(answering(response)), certId, new AbortController().signal);
    assert.equal(answer?.status, "revoked");
  });

  test("no answer, an unknown one, or a refused one produces nothing, so local signing is asked next", async () => {
    const { request, response } = await made([pki.good]);
    const certId = decodeOcspRequest(request).requests[0]!.certId;
    const signal = new AbortController().signal;
    assert.equal(await backEndProducer(forwarderWith(answering(undefined))).produce(certId, signal), undefined);
    const foreign = await made([pki.foreign]);
    assert.equal(await backEndProducer(forwarderWith(answering(foreign.response))).produce(decodeOcspRequest(foreign.request).requests[0]!.certId, signal), undefined, "unknown");
    const tampered = Buffer.from(response);
    tampered[tampered.length - 40]! ^= 0x01;
    assert.equal(await backEndProducer(forwarderWith(answering(tampered))).produce(certId, signal), undefined, "refused");
  });
});
