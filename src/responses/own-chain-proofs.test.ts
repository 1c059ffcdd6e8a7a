import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixedClock, type FixedClock } from "../clock.ts";
import { decodeBasicOcspResponse, decodeOcspResponse } from "../ocsp/decode-response.ts";
import { decodeFreshnessProof } from "../ocsp/freshness-proof.ts";
import type { CertId, Extension } from "../ocsp/types.ts";
import { recordingLogger } from "../observability/logger.ts";
import { issuerDirectory, type ServedIssuer } from "../issuers/issuer-directory.ts";
import { keyFileSigner } from "../signing/key-file-signer.ts";
import { responderIdentity } from "../signing/responder-identity.ts";
import { memorySource, type MemoryEntry } from "../status/memory-source.ts";
import { sourceData } from "../status/source-data.ts";
import type { Made } from "../trust/test-support/openssl-certificates.ts";
import { checkResponse } from "./check-response.ts";
import { ownChainProofs, type OwnChainProofs, type OwnChainProofsOptions } from "./own-chain-proofs.ts";
import { mapResponseCache, opensslProof, proofFixture, RESPONDER_EXTENSIONS, type ProofFixture } from "./test-support/proof-fixture.ts";
import type { ResponseCache } from "./response-cache.ts";
import { revocationLookup } from "../trust/revocation-lookup.ts";

let f: ProofFixture;
before(async () => {
  f = await proofFixture();
});
after(async () => {
  await f.maker.remove();
});

const HOUR = 3_600_000;
const running: OwnChainProofs[] = [];
after(async () => {
  await Promise.all(running.map((proofs) => proofs.close()));
});

/** A served issuer `ca` signing with `signer`, whose source knows `entries`. */
async function served(ca: Made, signer: Made, entries: [Made, MemoryEntry][], clock: FixedClock): Promise<ServedIssuer> {
  const key = await keyFileSigner({ keyFile: signer.key, certificate: signer.der, rsaPadding: "pkcs1", field: "signer.key" });
  const identity = responderIdentity({ signer: key, issuerCertificate: ca.der, responderId: "byKey", includeChain: true, now: clock.now(), field: "signer" });
  const source = memorySource({ issuer: ca.der, entries: new Map(entries.map(([made, entry]) => [made.serial, entry])), listsIssued: true, clock });
  return { name: ca.name, certificate: ca.der, identity, source, data: sourceData([source]), responseValidityMs: HOUR, close: () => source.close() };
}

async function start(issuers: ServedIssuer[], clock: FixedClock, extra: Partial<OwnChainProofsOptions> = {}): Promise<OwnChainProofs> {
  const proofs = ownChainProofs({
    issuers: issuerDirectory(issuers),
    responses: undefined,
    anchors: [f.root.der],
    certificates: undefined,
    maxAgeMs: HOUR,
    refreshIntervalMs: 5 * 60_000,
    clock,
    logger: recordingLogger(),
    ...extra,
  });
  running.push(proofs);
  await proofs.refresh();
  return proofs;
}

/** Each proof response, decoded, with whether checkResponse accepts it for `issuer`. */
async function readProof(extension: Extension | undefined, issuers: readonly Buffer[], now: number) {
  assert.ok(extension !== undefined, "a freshness proof is attached");
  assert.equal(extension.critical, false);
  return Promise.all(
    decodeFreshnessProof(extension.value).map(async (entry, index) => {
      const basic = decodeBasicOcspResponse(entry.basicDer);
      const check = await checkResponse(basic, { issuerOf: () => issuers[index], now });
      return { serial: basic.responses[0]!.certId.serialNumber.toString("hex"), status: basic.responses[0]!.status.kind, ok: check.ok, body: entry.ocspResponseDer };
    }),
  );
}

describe("own-chain freshness proofs", () => {
  test("a served CA answers for its delegated signer, a served root for the CA; the proof verifies", async () => {
    const clock = fixedClock(Date.now());
    const ca = await served(f.ca, f.responder, [[f.responder, { kind: "good" }]], clock);
    const root = await served(f.root, f.root, [[f.ca, { kind: "good" }]], clock);
    const proofs = await start([ca, root], clock);
    const entries = await readProof(proofs.extensionFor(ca.identity, clock.now()), [f.ca.der, f.root.der], clock.now());
    assert.deepEqual(
      entries.map(({ serial, status, ok }) => ({ serial, status, ok })),
      [
        { serial: f.responder.serial, status: "good", ok: true },
        { serial: f.ca.serial, status: "good", ok: true },
      ],
    );
    // The root signs as itself and is self-signed: no chain, nothing to attach.
    assert.equal(proofs.extensionFor(root.identity, clock.now()), undefined);
    // Stale on the hot path once older than maxAge, until a refresh.
    clock.advance(HOUR + 1000);
    assert.equal(proofs.extensionFor(ca.identity, clock.now()), undefined);
    await proofs.refresh();
    assert.notEqual(proofs.extensionFor(ca.identity, clock.now()), undefined);
  });

  test("what a source does not know (unknown, not issued) is left out; a revoked signer is attached as revoked", async () => {
    const clock = fixedClock(Date.now());
    const ca = await served(f.ca, f.responder, [[f.responder, { kind: "revoked", revokedAt: new Date(clock.now() - HOUR), reason: "keyCompromise" }]], clock);
    const root = await served(f.root, f.root, [], clock);
    const proofs = await start([ca, root], clock);
    const entries = await readProof(proofs.extensionFor(ca.identity, clock.now()), [f.ca.der], clock.now());
    assert.deepEqual(
      entries.map(({ serial, status }) => ({ serial, status })),
      [{ serial: f.responder.serial, status: "revoked" }],
    );
  });

  test("a served issuer's certificate is proved by its sources only, never from a cached copy", async () => {
    const clock = fixedClock(Date.now());
    const ca = await served(f.ca, f.responder, [[f.responder, { kind: "revoked", revokedAt: new Date(clock.now() - HOUR), reason: "keyCompromise" }]], clock);
    // The cache holds a genuine `good` about the delegated signer, older than its revocation.
    const responses = mapResponseCache(clock);
    await put(responses, await opensslProof(f, f.responder, f.ca));
    const proofs = await start([ca], clock, { responses });
    const entries = await readProof(proofs.extensionFor(ca.identity, clock.now()), [f.ca.der], clock.now());
    assert.deepEqual(
      entries.map(({ serial, status }) => ({ serial, status })),
      [{ serial: f.responder.serial, status: "revoked" }],
    );
  });

  test("for an issuer no served one answers, the response cache comes first, then the back end, checked", async () => {
    // Issued before the clock is read: its notBefore is not after "now".
    const rootResponder = await f.maker.issue("root-responder", f.root, { subject: "/C=SE/O=Proof/CN=Root OCSP", extensions: RESPONDER_EXTENSIONS });
    const clock = fixedClock(Date.now());
    const ca = await served(f.ca, f.responder, [[f.responder, { kind: "good" }]], clock);
    const responses = mapResponseCache(clock);
    const cachedCa = await opensslProof(f, f.ca, f.root);
    await put(responses, cachedCa);
    const fromRoot = await opensslProof(f, f.ca, f.root);
    const asked: string[] = [];
    const backEnd = async (certId: CertId) => {
      asked.push(certId.serialNumber.toString("hex"));
      return fromRoot;
    };
    const cached = await start([ca], clock, { responses, backEnd });
    assert.deepEqual((await readProof(cached.extensionFor(ca.identity, clock.now()), [f.ca.der, f.root.der], clock.now()))[1]!.body, cachedCa);
    assert.deepEqual(asked, []);

    const remote = await start([ca], clock, { backEnd });
    assert.deepEqual((await readProof(remote.extensionFor(ca.identity, clock.now()), [f.ca.der, f.root.der], clock.now()))[1]!.body, fromRoot);
    assert.deepEqual(asked, [f.ca.serial]);

    // A back end answering with a response signed by the wrong key is not believed.
    const forged = await opensslProof(f, f.ca, f.root, { signer: f.stranger });
    const refused = await start([ca], clock, { backEnd: async () => forged });
    assert.equal((await readProof(refused.extensionFor(ca.identity, clock.now()), [f.ca.der], clock.now())).length, 1);

    // Nor one signed by a delegated responder of the root that Vouch's own sources know to be revoked.
    const bySigner = await opensslProof(f, f.ca, f.root, { signer: rootResponder });
    const rootSource = memorySource({
      issuer: f.root.der,
      entries: new Map([[rootResponder.serial, { kind: "revoked" as const, revokedAt: new Date(clock.now() - HOUR), reason: "keyCompromise" as const }]]),
      listsIssued: false,
      clock,
    });
    const revocation = revocationLookup([{ certificate: f.root.der, source: rootSource }]);
    const trusting = await start([ca], clock, { backEnd: async () => bySigner });
    assert.equal((await readProof(trusting.extensionFor(ca.identity, clock.now()), [f.ca.der, f.root.der], clock.now())).length, 2, "without the sources, it is used");
    const checking = await start([ca], clock, { backEnd: async () => bySigner, revocation });
    assert.equal((await readProof(checking.extensionFor(ca.identity, clock.now()), [f.ca.der], clock.now())).length, 1);
  });
});

/** Puts `response` (one single response) into `responses` under its CertID. */
async function put(responses: ResponseCache, response: Buffer): Promise<void> {
  const decoded = decodeOcspResponse(response);
  const basic = decoded.status === "successful" ? decoded.basic : assert.fail();
  const single = basic.responses[0]!;
  await responses.put(single.certId, { body: response, thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate!, producedAt: basic.producedAt, issuerNameDer: Buffer.alloc(0) });
}
