/**
 * The basic pipeline in process: real requests from `openssl ocsp -reqout`, real key-file signers,
 * a fixed clock, answers read back with the reference codec (@peculiar/asn1-ocsp).
 */
import assert from "node:assert/strict";
import { X509Certificate, verify } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Extension } from "@peculiar/asn1-x509";
import { BasicOCSPResponse, OCSPRequest, OCSPResponse, TBSRequest } from "@peculiar/asn1-ocsp";
import { fixedClock } from "../clock.ts";
import { TryLaterError } from "../errors.ts";
import { silentLogger } from "../observability/logger.ts";
import { certificateSerial, createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { keyFileSigner } from "../signing/key-file-signer.ts";
import { responderIdentity } from "../signing/responder-identity.ts";
import { memorySource } from "../status/memory-source.ts";
import { guardStale } from "../status/guard-stale.ts";
import { sourceData } from "../status/source-data.ts";
import type { OpenedSource } from "../status/status-source.ts";
import { createExchange, type Exchange } from "./exchange.ts";
import { issuerDirectory, type IssuerDirectory } from "../issuers/issuer-directory.ts";
import type { CertId } from "../ocsp/types.ts";
import { pipeline, type Pipeline } from "./pipeline.ts";
import { localValidationStep } from "./steps/07-local-validation.ts";
import { signStep } from "./steps/08-sign.ts";
import { sendStep } from "./steps/10-send.ts";
import { httpReply } from "../http/ocsp-reply.ts";
import type { Reply } from "../http/reply.ts";
import { opensslRequest } from "../../test/support/openssl.ts";

// Whole hours after the test PKI is made (it is valid from its creation), so answers have round times.
const clock = fixedClock(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
const at = (offsetMs: number) => new Date(clock.now() + offsetMs);
let ec: Pki;
let rsa: Pki;
let goodSerial: string;

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-pipeline-"));
  [ec, rsa] = await Promise.all([createPki({ dir: join(base, "ec") }), createPki({ dir: join(base, "rsa"), caKeyType: "rsa-2048" })]);
  goodSerial = await certificateSerial(ec.good);
});

async function servedIssuer(pki: Pki, source: OpenedSource, validityMs = 3_600_000) {
  const certificate = await readPemDer(pki.ca);
  const signerCertificate = await readPemDer(pki.signer);
  const signer = await keyFileSigner({ keyFile: pki.signerKey, certificate: signerCertificate, rsaPadding: "pkcs1", field: "signer.key" });
  const identity = responderIdentity({ signer, issuerCertificate: certificate, responderId: "byKey", includeChain: false, now: clock.now(), field: "signer" });
  return { name: pki.ca, certificate, identity, source, data: sourceData([source]), responseValidityMs: validityMs, close: () => source.close() };
}

/** `lookedUp` collects every CertID whose issuer is looked up in the directory. */
async function basicPipeline(options: { nonIssued?: "unknown" | "revoked"; sources?: (pki: Pki, issuer: Buffer) => OpenedSource; lookedUp?: CertId[] } = {}): Promise<Pipeline> {
  const make = options.sources ?? ((_pki: Pki, issuer: Buffer) => memorySource({ issuer, entries: new Map([[goodSerial, { kind: "good" }]]), listsIssued: true, clock }));
  const directory = issuerDirectory([
    await servedIssuer(ec, make(ec, await readPemDer(ec.ca))),
    await servedIssuer(rsa, make(rsa, await readPemDer(rsa.ca))),
  ]);
  const issuers: IssuerDirectory = {
    all: directory.all,
    find: (id) => {
      options.lookedUp?.push(id);
      return directory.find(id);
    },
  };
  return pipeline({
    deciding: [localValidationStep({ issuers, nonIssued: options.nonIssued ?? "unknown", clock }), signStep({ noncePolicy: "optional", clock })],
    finishing: [sendStep({ clock })],
    rules: { maxSingleRequests: 10, noncePolicy: "optional", nonceMaxLength: 32 },
    issuers,
    logger: silentLogger,
    clock,
  });
}

async function exchange(run: Pipeline, received: Buffer, extra: Partial<Pick<Exchange, "method" | "ifNoneMatch">> = {}): Promise<Exchange> {
  const created = createExchange({ received, method: extra.method ?? "POST", clientAddress: "127.0.0.1", ifNoneMatch: extra.ifNoneMatch, signal: new AbortController().signal, startedAt: clock.now() });
  await run.run(created);
  return created;
}

/** What goes on the wire for `result`'s reply (status, headers, body), as the HTTP layer encodes it. */
function wire(result: Exchange): Reply {
  return httpReply(result.reply!);
}

function basicOf(body: Buffer): BasicOCSPResponse {
  const response = AsnConvert.parse(body, OCSPResponse);
  assert.equal(response.responseStatus, 0, "successful");
  return AsnConvert.parse(response.responseBytes!.response.buffer, BasicOCSPResponse);
}

/** Adds RFC 6960 §4.4.7.1 preferred-signature-algorithms to an openssl-made request. */
function preferring(der: Buffer, algorithms: Buffer[]): Buffer {
  const parsed = AsnConvert.parse(der, OCSPRequest);
  // PreferredSignatureAlgorithms ::= SEQUENCE OF SEQUENCE { sigIdentifier AlgorithmIdentifier, … }
  const entries = algorithms.map((algorithm) => Buffer.concat([Buffer.from([0x30, algorithm.length]), algorithm]));
  const body = Buffer.concat(entries);
  const value = Buffer.concat([Buffer.from([0x30, body.length]), body]);
  const tbs = new TBSRequest({
    requestList: parsed.tbsRequest.requestList,
    requestExtensions: [...(parsed.tbsRequest.requestExtensions ?? []), new Extension({ extnID: "1.3.6.1.5.5.7.48.1.8", extnValue: new OctetString(value) })],
  });
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

describe("the basic pipeline (SPEC steps 7, 8, 10)", () => {
  test("answers good with thisUpdate = now and nextUpdate = now + validity, signed by the issuer's signer", async () => {
    const run = await basicPipeline();
    const result = await exchange(run, await opensslRequest(["-issuer", ec.ca, "-cert", ec.good, "-no_nonce"]));
    const basic = basicOf(result.reply!.body);
    const single = basic.tbsResponseData.responses[0]!;
    assert.ok(single.certStatus.good !== undefined);
    assert.equal(single.thisUpdate.toISOString(), at(0).toISOString());
    assert.equal(single.nextUpdate!.toISOString(), at(3_600_000).toISOString());
    const signer = new X509Certificate(await readPemDer(ec.signer));
    const tbs = Buffer.from(AsnConvert.serialize(basic.tbsResponseData));
    assert.ok(verify("sha256", tbs, { key: signer.publicKey, dsaEncoding: "der" }, Buffer.from(basic.signature)));
  });

  test("a serial the CA never issued is unknown by default, or revoked per RFC 6960 §2.2 with extended-revoke", async () => {
    const request = await opensslRequest(["-issuer", ec.ca, "-serial", "0x7777", "-no_nonce"]);
    const byDefault = basicOf((await exchange(await basicPipeline(), request)).reply!.body);
    assert.ok(byDefault.tbsResponseData.responses[0]!.certStatus.unknown !== undefined);
    const revoking = basicOf((await exchange(await basicPipeline({ nonIssued: "revoked" }), request)).reply!.body);
    const revoked = revoking.tbsResponseData.responses[0]!.certStatus.revoked!;
    assert.equal(revoked.revocationTime.toISOString(), "1970-01-01T00:00:00.000Z");
    assert.equal(Number(revoked.revocationReason?.reason), 6, "certificateHold");
    assert.deepEqual(revoking.tbsResponseData.responseExtensions?.map((extension) => extension.extnID), ["1.3.6.1.5.5.7.48.1.9"]);
  });

  test("data past its nextUpdate never answers good: tryLater", async () => {
    const stale = (_pki: Pki, issuer: Buffer): OpenedSource => {
      const opened = memorySource({ issuer, entries: new Map(), listsIssued: false, clock, thisUpdate: at(-23 * 86_400_000), nextUpdate: at(-16 * 86_400_000) });
      return { ...guardStale(opened, clock), close: () => opened.close() };
    };
    const result = await exchange(await basicPipeline({ sources: stale }), await opensslRequest(["-issuer", ec.ca, "-cert", ec.good]));
    assert.deepEqual(result.reply!.body, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]));
    assert.equal(result.error?.status, "tryLater");
  });

  test("the client's preferred signature algorithm is used when the key can make it (RFC 6960 §4.4.7)", async () => {
    const run = await basicPipeline();
    const pssSha256 = Buffer.from(
      "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
      "hex",
    );
    const sha512WithRsa = Buffer.from("300d06092a864886f70d01010d0500", "hex");
    const ecdsaSha384 = Buffer.from("300a06082a8648ce3d040303", "hex");
    const request = await opensslRequest(["-issuer", rsa.ca, "-cert", rsa.good, "-no_nonce"]);
    const rsaBasic = basicOf((await exchange(run, preferring(request, [ecdsaSha384, pssSha256, sha512WithRsa]))).reply!.body);
    assert.equal(rsaBasic.signatureAlgorithm.algorithm, "1.2.840.113549.1.1.10", "ECDSA is impossible for an RSA key; PSS is next");
    const ecRequest = await opensslRequest(["-issuer", ec.ca, "-cert", ec.good, "-no_nonce"]);
    const ecBasic = basicOf((await exchange(run, preferring(ecRequest, [pssSha256, ecdsaSha384]))).reply!.body);
    assert.equal(ecBasic.signatureAlgorithm.algorithm, "1.2.840.10045.4.3.3");
    const fallback = basicOf((await exchange(run, preferring(ecRequest, [pssSha256]))).reply!.body);
    assert.equal(fallback.signatureAlgorithm.algorithm, "1.2.840.10045.4.3.2", "none usable: the key's default");
    assert.equal(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.2" })).byteLength, 12);
  });

  test("a GET whose If-None-Match names the current ETag gets 304; POST never does", async () => {
    const run = await basicPipeline();
    const request = await opensslRequest(["-issuer", rsa.ca, "-cert", rsa.good, "-no_nonce"]);
    // RSA PKCS#1 v1.5 is deterministic, and the clock stands still: the same request gives the same bytes.
    const first = await exchange(run, request, { method: "GET" });
    const etag = wire(first).headers.etag!;
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    const again = await exchange(run, request, { method: "GET", ifNoneMatch: etag });
    assert.equal(wire(again).statusCode, 304);
    assert.equal(wire(again).body.length, 0);
    assert.equal(wire(again).headers.etag, etag);
    const other = await exchange(run, request, { method: "GET", ifNoneMatch: '"something-else"' });
    assert.equal(wire(other).statusCode, 200);
    const posted = await exchange(run, request, { method: "POST", ifNoneMatch: etag });
    assert.equal(wire(posted).statusCode, 200);
  });

  test("an unknown issuer is answered unknown, non-authoritative (no-cache), signed by the first issuer's signer", async () => {
    const result = await exchange(await basicPipeline(), await opensslRequest(["-issuer", ec.foreignCa, "-cert", ec.foreign, "-no_nonce"]));
    const basic = basicOf(result.reply!.body);
    assert.ok(basic.tbsResponseData.responses[0]!.certStatus.unknown !== undefined);
    assert.equal(wire(result).headers["cache-control"], "no-cache, no-store, max-age=0");
    const signer = new X509Certificate(await readPemDer(ec.signer));
    assert.ok(Buffer.from(AsnConvert.serialize(basic.certs![0]!)).equals(Buffer.from(signer.raw)));
  });

  test("each single request's issuer is looked up once, right after decoding, and every step reads it from the exchange", async () => {
    const lookedUp: CertId[] = [];
    const run = await basicPipeline({ lookedUp });
    const result = await exchange(run, await opensslRequest(["-issuer", ec.ca, "-cert", ec.good, "-issuer", ec.foreignCa, "-cert", ec.foreign, "-no_nonce"]));
    assert.deepEqual(
      lookedUp.map((id) => id.der),
      result.request!.requests.map((single) => single.certId.der),
    );
    assert.deepEqual(result.servedIssuers?.map((issuer) => issuer?.name), [ec.ca, undefined]);
    const responses = basicOf(result.reply!.body).tbsResponseData.responses;
    assert.ok(responses[0]!.certStatus.good !== undefined);
    assert.ok(responses[1]!.certStatus.unknown !== undefined);
  });

  test("the pipeline never rejects, even when a source throws something unexpected: internalError", async () => {
    const broken = (): OpenedSource => ({
      status: () => Promise.reject(new TypeError("the enzabulators florbled")),
      close: () => Promise.resolve(),
    });
    const result = await exchange(await basicPipeline({ sources: broken }), await opensslRequest(["-issuer", ec.ca, "-cert", ec.good]));
    assert.deepEqual(result.reply!.body, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x02]));
  });

  test("a source that throws at once is answered like one that rejects: tryLater for an OcspError, internalError otherwise", async () => {
    const throwing = (error: Error) => (): OpenedSource => ({
      status: () => {
        throw error;
      },
      close: () => Promise.resolve(),
    });
    const request = await opensslRequest(["-issuer", ec.ca, "-cert", ec.good]);
    const unexpected = await exchange(await basicPipeline({ sources: throwing(new TypeError("florbled")) }), request);
    assert.deepEqual(unexpected.reply!.body, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x02]));
    const busy = await exchange(await basicPipeline({ sources: throwing(new TryLaterError("reloading")) }), request);
    assert.deepEqual(busy.reply!.body, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]));
  });

  test("sources that answer at once and an inline signer give the reply without a promise; a waiting source gives the same reply later", async () => {
    const request = await opensslRequest(["-issuer", ec.ca, "-cert", ec.good, "-no_nonce"]);
    const inMemory = await basicPipeline();
    const now = createExchange({ received: request, method: "POST", clientAddress: "127.0.0.1", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: clock.now() });
    assert.equal(inMemory.run(now), undefined);
    const waiting = (pki: Pki, issuer: Buffer): OpenedSource => {
      const inner = memorySource({ issuer, entries: new Map([[goodSerial, { kind: "good" }]]), listsIssued: true, clock });
      return { status: (id, signal) => new Promise((resolve) => setImmediate(() => resolve(inner.status(id, signal)))), close: () => inner.close() };
    };
    const later = createExchange({ received: request, method: "POST", clientAddress: "127.0.0.1", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: clock.now() });
    const pending = (await basicPipeline({ sources: waiting })).run(later);
    assert.ok(pending instanceof Promise);
    assert.equal(later.reply, undefined);
    await pending;
    // ECDSA signatures differ run to run; everything a client compares is the same.
    assert.deepEqual(basicOf(later.reply!.body).tbsResponseData.responses, basicOf(now.reply!.body).tbsResponseData.responses);
    assert.equal(wire(later).headers.etag === undefined, wire(now).headers.etag === undefined);
  });
});
