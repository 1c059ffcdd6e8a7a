import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { ConfigError, TryLaterError } from "../errors.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { MemoryEntry } from "../status/memory-source.ts";
import type { StatusAnswer } from "../status/status-source.ts";
import { certificateCache } from "./memory-certificate-cache.ts";
import type { CheckName, ValidationPurpose, ValidationResult } from "./certificate-validator.ts";
import type { Made } from "./test-support/openssl-certificates.ts";
import { EXT } from "./test-support/openssl-certificates.ts";
import type { Assembly, TrustFixture } from "./test-support/trust-fixture.ts";
import { assemble, buildTrustFixture } from "./test-support/trust-fixture.ts";
import { parseCertificate } from "./parse-certificate.ts";
import { revocationLookup } from "./revocation-lookup.ts";
import { certificateValidator } from "./validate-certificate.ts";

let f: TrustFixture;
before(async () => {
  f = await buildTrustFixture();
});
after(async () => {
  await f.maker.remove();
});

const NEVER = new AbortController().signal;
const memoryCacheless = () => certificateCache({ persistent: [], maxCount: 10, maxBytes: 100_000 });
const DAY = 86_400_000;
const revoked: MemoryEntry = { kind: "revoked", revokedAt: new Date("2024-01-01T00:00:00Z"), reason: "keyCompromise" };
const statuses = (issuer: Made, serial: Made, entry: MemoryEntry): ReadonlyMap<Made, ReadonlyMap<string, MemoryEntry>> => new Map([[issuer, new Map([[serial.serial, entry]])]]);

/** One row: the certificate, how the validator is assembled, and the expected outcome. */
interface Case {
  readonly name: string;
  readonly certificate: (fixture: TrustFixture) => Buffer;
  readonly purpose?: ValidationPurpose;
  readonly assembly?: (fixture: TrustFixture) => Assembly;
  /** "ok", or the check that must fail. */
  readonly expect: CheckName | "ok";
  /** For "ok": the chain, end certificate first. */
  readonly chain?: (fixture: TrustFixture) => readonly Made[];
  /** For failures: what the detail must say. */
  readonly detail?: RegExp;
}

async function run(row: Case): Promise<ValidationResult> {
  const { validator } = assemble(f, row.assembly?.(f) ?? {});
  return validator.authenticate(row.certificate(f), row.purpose ?? "tls-client-auth", NEVER);
}

function table(title: string, rows: readonly Case[]): void {
  describe(title, () => {
    for (const row of rows) {
      test(`${row.name} → ${row.expect}`, async () => {
        const result = await run(row);
        if (row.expect === "ok") {
          assert.ok(result.ok, `expected ok, got ${result.ok ? "" : `${result.failed}: ${result.detail}`}`);
          if (row.chain !== undefined) assert.deepEqual(result.chain, row.chain(f).map((made) => made.der));
          return;
        }
        assert.ok(!result.ok, "expected a failure");
        assert.equal(result.failed, row.expect, result.detail);
        if (row.detail !== undefined) assert.match(result.detail, row.detail);
      });
    }
  });
}

table("a path to an anchor", [
  { name: "a good leaf", certificate: (x) => x.leaves.good.der, expect: "ok", chain: (x) => [x.leaves.good, x.ca, x.root] },
  { name: "a leaf signed by the root", certificate: (x) => x.leaves.direct.der, expect: "ok", chain: (x) => [x.leaves.direct, x.root] },
  { name: "the anchor itself (no usage, validity or status check)", certificate: (x) => x.root.der, expect: "ok", chain: (x) => [x.root], assembly: () => ({ sourced: [] }) },
  { name: "a certificate from another root", certificate: (x) => x.leaves.foreign.der, expect: "no-path", detail: /no trust anchor or cached certificate/ },
  { name: "an intermediate missing from the cache", certificate: (x) => x.leaves.good.der, assembly: () => ({ persistent: [] }), expect: "no-path", detail: /"CN=good,O=Acme,C=SE"/ },
  { name: "garbage", certificate: () => Buffer.from("not a certificate"), expect: "malformed" },
]);

table("validity (fixed clocks)", [
  { name: "20 years on", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ clock: fixedClock(x.now.getTime() + 20 * 365 * DAY) }), expect: "expired", detail: /good.*expired at/ },
  { name: "a day before issue", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ clock: fixedClock(x.now.getTime() - DAY) }), expect: "not-yet-valid" },
  { name: "a leaf outliving its expired CA", certificate: (x) => x.leaves.underShort.der, assembly: (x) => ({ clock: fixedClock(x.now.getTime() + 10 * DAY) }), expect: "expired", detail: /Acme Short CA/ },
  { name: "the same leaf while its CA is valid", certificate: (x) => x.leaves.underShort.der, expect: "ok" },
]);

table("revocation status", [
  { name: "a revoked leaf", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.good, revoked) }), expect: "revoked", detail: /CN=good.*keyCompromise/ },
  { name: "a revoked issuing CA", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ statuses: statuses(x.root, x.ca, revoked) }), expect: "revoked", detail: /Acme Issuing CA/ },
  { name: "unknown status, policy fail", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.good, { kind: "unknown" }) }), expect: "status-unknown", detail: /unknown/ },
  { name: "unknown status, policy pass", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.good, { kind: "unknown" }), unknownStatus: "pass" }), expect: "ok" },
  { name: "no source for the issuing CA, policy fail", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ sourced: [x.root] }), expect: "status-unknown", detail: /no revocation source/ },
  { name: "no source for the issuing CA, policy pass", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ sourced: [x.root], unknownStatus: "pass" }), expect: "ok" },
  { name: "no source for the root (the CA's status is unknown)", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ sourced: [x.ca] }), expect: "status-unknown", detail: /Acme Issuing CA/ },
  {
    name: "a revoked delegated OCSP signer with ocsp-nocheck, signing a request",
    certificate: (x) => x.leaves.nocheckSigner.der,
    purpose: "request-signing",
    assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.nocheckSigner, revoked) }),
    expect: "revoked",
  },
  {
    name: "a revoked delegated OCSP signer with ocsp-nocheck, signing a response (a known revocation is never excused)",
    certificate: (x) => x.leaves.nocheckSigner.der,
    purpose: "ocsp-signing",
    assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.nocheckSigner, revoked) }),
    expect: "revoked",
  },
  {
    name: "a delegated OCSP signer with ocsp-nocheck whose status nobody knows, signing a response",
    certificate: (x) => x.leaves.nocheckSigner.der,
    purpose: "ocsp-signing",
    assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.nocheckSigner, { kind: "unknown" }) }),
    expect: "ok",
  },
  {
    name: "the same signer whose status nobody knows, signing a request",
    certificate: (x) => x.leaves.nocheckSigner.der,
    purpose: "request-signing",
    assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.nocheckSigner, { kind: "unknown" }) }),
    expect: "status-unknown",
  },
  {
    name: "ocsp-nocheck excuses only the end certificate: its CA's unknown status still fails",
    certificate: (x) => x.leaves.nocheckSigner.der,
    purpose: "ocsp-signing",
    assembly: (x) => ({ sourced: [x.ca] }),
    expect: "status-unknown",
    detail: /Acme Issuing CA/,
  },
  {
    name: "ocsp-nocheck on a certificate that is not an OCSP signer is ignored",
    certificate: (x) => x.leaves.nocheckNotSigner.der,
    assembly: (x) => ({ statuses: statuses(x.ca, x.leaves.nocheckNotSigner, revoked) }),
    expect: "revoked",
  },
]);

table("signature", [
  { name: "a leaf with one signature octet changed", certificate: (x) => x.badSignature, expect: "bad-signature", detail: /does not verify with the key of "CN=Acme Issuing CA/ },
]);

table("issuer is a CA", [
  { name: "signed by a leaf's key", certificate: (x) => x.leaves.underLeaf.der, assembly: (x) => ({ unauthenticated: [x.leaves.good.der] }), expect: "not-a-ca", detail: /CN=good.*not a CA/ },
  { name: "signed by a CA without keyCertSign", certificate: (x) => x.leaves.underNoCertSign.der, expect: "not-a-ca", detail: /keyCertSign/ },
]);

table("path length", [
  { name: "a leaf under a pathlen:0 CA", certificate: (x) => x.leaves.underPathLen0.der, expect: "ok" },
  { name: "a sub-CA under a pathlen:0 CA", certificate: (x) => x.leaves.underSubCa.der, expect: "path-length", detail: /pathlen 0.*allows 0.*has 1/ },
]);

table("name constraints", [
  { name: "subject inside the permitted dirName", certificate: (x) => x.leaves.dirIn.der, expect: "ok" },
  { name: "subject outside the permitted dirName", certificate: (x) => x.leaves.dirOut.der, expect: "name-constraints", detail: /outside the permitted/ },
  { name: "subject in the excluded dirName", certificate: (x) => x.leaves.dirExcluded.der, expect: "name-constraints", detail: /excluded/ },
  { name: "a constraint two levels up", certificate: (x) => x.leaves.dirDeepOut.der, expect: "name-constraints", detail: /Acme NC Dir/ },
  { name: "dNSName, rfc822Name and iPAddress inside", certificate: (x) => x.leaves.netIn.der, expect: "ok" },
  { name: "dNSName outside", certificate: (x) => x.leaves.netDnsOut.der, expect: "name-constraints", detail: /www\.evil\.test/ },
  { name: "dNSName excluded", certificate: (x) => x.leaves.netDnsExcluded.der, expect: "name-constraints", detail: /excluded/ },
  { name: "rfc822Name outside", certificate: (x) => x.leaves.netEmailOut.der, expect: "name-constraints", detail: /alice@evil\.test/ },
  { name: "iPAddress outside", certificate: (x) => x.leaves.netIpOut.der, expect: "name-constraints", detail: /192\.168\.1\.1/ },
  { name: "a constrained form Vouch does not compare (URI)", certificate: (x) => x.leaves.netUri.der, expect: "name-constraints", detail: /does not compare/ },
]);

table("key usage for the purpose", [
  { name: "clientAuth leaf for TLS", certificate: (x) => x.leaves.good.der, expect: "ok" },
  { name: "digitalSignature leaf for request signing", certificate: (x) => x.leaves.good.der, purpose: "request-signing", expect: "ok" },
  { name: "no keyUsage or extendedKeyUsage, TLS", certificate: (x) => x.leaves.bare.der, expect: "ok" },
  { name: "no keyUsage or extendedKeyUsage, request signing", certificate: (x) => x.leaves.bare.der, purpose: "request-signing", expect: "ok" },
  { name: "serverAuth only, TLS", certificate: (x) => x.leaves.serverOnly.der, expect: "usage", detail: /clientAuth/ },
  { name: "serverAuth only, request signing", certificate: (x) => x.leaves.serverOnly.der, purpose: "request-signing", expect: "ok" },
  { name: "keyEncipherment only, request signing", certificate: (x) => x.leaves.keyEnciphermentOnly.der, purpose: "request-signing", expect: "usage", detail: /digitalSignature/ },
  { name: "keyEncipherment only, TLS", certificate: (x) => x.leaves.keyEnciphermentOnly.der, expect: "usage" },
  { name: "id-kp-OCSPSigning, OCSP response signing", certificate: (x) => x.leaves.nocheckSigner.der, purpose: "ocsp-signing", expect: "ok" },
  { name: "a client certificate, OCSP response signing", certificate: (x) => x.leaves.good.der, purpose: "ocsp-signing", expect: "usage", detail: /OCSPSigning/ },
  { name: "no extendedKeyUsage, OCSP response signing", certificate: (x) => x.leaves.bare.der, purpose: "ocsp-signing", expect: "usage", detail: /OCSPSigning/ },
]);

table("critical extensions", [
  { name: "an unknown critical extension on the leaf", certificate: (x) => x.leaves.unknownCritical.der, expect: "malformed", detail: /1\.2\.3\.4/ },
]);

table("depth (certificates in the path, anchor included)", [
  { name: "leaf→root with maxDepth 1", certificate: (x) => x.leaves.direct.der, assembly: () => ({ maxDepth: 1 }), expect: "depth" },
  { name: "leaf→root with maxDepth 2", certificate: (x) => x.leaves.direct.der, assembly: () => ({ maxDepth: 2 }), expect: "ok" },
  { name: "leaf→CA→root with maxDepth 2", certificate: (x) => x.leaves.good.der, assembly: () => ({ maxDepth: 2 }), expect: "depth" },
  { name: "leaf→CA→root with maxDepth 3", certificate: (x) => x.leaves.good.der, assembly: () => ({ maxDepth: 3 }), expect: "ok" },
]);

test("fixture: the no-AKI leaf really has no authorityKeyIdentifier (OpenSSL 3 adds one by default)", () => {
  assert.equal(parseCertificate(f.leaves.noAki.der).authorityKeyId, undefined);
});

table("several candidate issuers", [
  {
    name: "a same-name decoy tried before the real CA (no AKI to order them)",
    certificate: (x) => x.leaves.noAki.der,
    assembly: (x) => ({ persistent: [], unauthenticated: [x.decoy.der, x.ca.der] }),
    expect: "ok",
    chain: (x) => [x.leaves.noAki, x.ca, x.root],
  },
  { name: "only the decoy", certificate: (x) => x.leaves.noAki.der, assembly: (x) => ({ persistent: [x.decoy.der] }), expect: "bad-signature" },
  {
    name: "the decoy and a revoked real CA: revoked is the more specific failure",
    certificate: (x) => x.leaves.noAki.der,
    assembly: (x) => ({ persistent: [x.decoy.der, x.ca.der], statuses: statuses(x.root, x.ca, revoked) }),
    expect: "revoked",
  },
  { name: "a leaf with AKI finds the real CA among same-name CAs", certificate: (x) => x.leaves.good.der, assembly: (x) => ({ persistent: [x.decoy.der, x.ca.der] }), expect: "ok" },
  { name: "cross-signed CAs without an anchor: the loop ends", certificate: (x) => x.leaves.underLoop.der, assembly: (x) => ({ persistent: [x.loopX.der, x.loopY.der] }), expect: "no-path", detail: /loop/ },
]);

const tierSizes = (cache: { tiers(): readonly { tier: string; certificates: number }[] }): Record<string, number> =>
  Object.fromEntries(cache.tiers().map((tier) => [tier.tier, tier.certificates]));

describe("the certificate cache", () => {
  test("an intermediate a client sent (unauthenticated tier) is found", async () => {
    const { validator } = assemble(f, { persistent: [], unauthenticated: [f.ca.der] });
    assert.ok((await validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER)).ok);
  });

  test("a certificate that passes joins the authenticated tier, with its sent intermediate; anchors do not", async () => {
    const { validator, cache } = assemble(f, { persistent: [], unauthenticated: [f.ca.der] });
    assert.equal(cache.findBySubject(certificateFields(f.leaves.good.der).subjectDer).length, 0);
    assert.ok((await validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER)).ok);
    assert.deepEqual(cache.findBySubject(certificateFields(f.leaves.good.der).subjectDer), [f.leaves.good.der]);
    assert.equal(cache.findBySubject(certificateFields(f.root.der).subjectDer).length, 0);
    assert.deepEqual(tierSizes(cache), { persistent: 0, authenticated: 2, unauthenticated: 0 });
  });

  test("a certificate that fails is not added", async () => {
    const { validator, cache } = assemble(f, { statuses: statuses(f.ca, f.leaves.good, revoked) });
    assert.equal((await validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER)).ok, false);
    assert.equal(tierSizes(cache).authenticated, 0);
  });

  test("certificates sent with the one authenticated serve as issuers, and join the cache only once accepted", async () => {
    const { validator, cache } = assemble(f, { persistent: [] });
    assert.equal((await validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER)).ok, false, "without its chain: no path");
    const revokedCa = assemble(f, { persistent: [], statuses: statuses(f.root, f.ca, revoked) });
    const refused = await revokedCa.validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER, undefined, [f.ca.der]);
    assert.equal(refused.ok ? "ok" : refused.failed, "revoked", "a sent issuer is checked like any other");
    assert.deepEqual(tierSizes(revokedCa.cache), { persistent: 0, authenticated: 0, unauthenticated: 0 });
    assert.ok((await validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER, undefined, [f.ca.der])).ok);
    assert.deepEqual(tierSizes(cache), { persistent: 0, authenticated: 2, unauthenticated: 0 });
  });

  test("statuses are asked on every call, never remembered", async () => {
    let answers = 0;
    const status = async (): Promise<StatusAnswer> => (answers++ === 0 ? { kind: "good", thisUpdate: f.now } : { kind: "revoked", thisUpdate: f.now, revokedAt: f.now });
    const source = { status, close: async () => {} };
    const validator = certificateValidator({
      anchors: [f.ca.der],
      cache: memoryCacheless(),
      revocation: revocationLookup([{ certificate: f.ca.der, source }]),
      clock: fixedClock(f.now),
      unknownStatus: "fail",
    });
    assert.equal((await validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER)).ok, true);
    const second = await validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER);
    assert.equal(second.ok ? "ok" : second.failed, "revoked");
  });
});

describe("a flood of look-alike CAs in the unauthenticated tier", () => {
  let lookalikes: Buffer[] = [];
  before(async () => {
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) => f.maker.issue(`lookalike-${i}`, f.root, { subject: "/C=SE/O=Acme/CN=Acme Issuing CA", extensions: EXT.ca })),
    );
    lookalikes = made.map((m) => m.der);
  });

  test("the configured (persistent) intermediate is still tried first", async () => {
    const { validator } = assemble(f, { persistent: [f.ca.der], unauthenticated: lookalikes });
    assert.ok((await validator.authenticate(f.leaves.noAki.der, "tls-client-auth", NEVER)).ok);
  });

  test("an intermediate sent with the certificate is tried before the flood", async () => {
    const { validator } = assemble(f, { persistent: [], unauthenticated: lookalikes });
    assert.ok((await validator.authenticate(f.leaves.noAki.der, "tls-client-auth", NEVER, undefined, [f.ca.der])).ok);
  });

  test("an older unauthenticated intermediate behind the flood is not reached: the lookup is bounded", async () => {
    const { validator } = assemble(f, { persistent: [], unauthenticated: [f.ca.der, ...lookalikes] });
    const result = await validator.authenticate(f.leaves.noAki.der, "tls-client-auth", NEVER);
    assert.equal(result.ok ? "ok" : result.failed, "bad-signature");
  });
});

describe("errors", () => {
  test("a source that cannot answer now: TryLaterError propagates", async () => {
    const source = { status: async () => Promise.reject(new TryLaterError("stale CRL")), close: async () => {} };
    const validator = certificateValidator({
      anchors: [f.ca.der],
      cache: memoryCacheless(),
      revocation: revocationLookup([{ certificate: f.ca.der, source }]),
      clock: fixedClock(f.now),
      unknownStatus: "pass",
    });
    await assert.rejects(validator.authenticate(f.leaves.good.der, "tls-client-auth", NEVER), TryLaterError);
  });

  const base = () => ({ anchors: [f.root.der], cache: memoryCacheless(), revocation: revocationLookup([]), clock: fixedClock(f.now), unknownStatus: "fail" as const });
  const invalid: [string, () => Parameters<typeof certificateValidator>[0], string][] = [
    ["no anchors", () => ({ ...base(), anchors: [] }), "anchors"],
    ["an anchor that is not a certificate", () => ({ ...base(), anchors: [f.root.der, Buffer.from("x")] }), "anchors[1]"],
    ["maxDepth 0", () => ({ ...base(), maxDepth: 0 }), "maxDepth"],
    ["maxDepth 2.5", () => ({ ...base(), maxDepth: 2.5 }), "maxDepth"],
    ["unknownStatus maybe", () => ({ ...base(), unknownStatus: "maybe" as "fail" }), "unknownStatus"],
  ];
  for (const [name, options, field] of invalid) {
    test(`refuses ${name} (ConfigError ${field})`, () => {
      assert.throws(() => certificateValidator(options()), (error: unknown) => error instanceof ConfigError && error.field === field);
    });
  }
});
