import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { decodeOcspRequest } from "../ocsp/decode-request.ts";
import { octetString, oid, sequence, explicit } from "../ocsp/der-writer.ts";
import { encodeCertId } from "../ocsp/cert-id.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { id_pkix_ocsp_service_locator } from "../ocsp/oids.ts";
import type { IssuerDirectory, ServedIssuer } from "../issuers/issuer-directory.ts";
import { createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { certificateCache } from "../trust/memory-certificate-cache.ts";
import { nameMatcher } from "../trust/name-match.ts";
import { urlDiscovery, type DiscoveryOptions } from "./discovery.ts";
import { urlAllowList } from "./url-pattern.ts";
import { knownIssuers } from "./known-issuers.ts";
import { serviceLocatorRequest } from "./test-support/service-locator-request.ts";

const AIA_URL = "http://aia.example/ocsp";
let pki: Pki;
let ca: Buffer;
let good: Buffer;
let revoked: Buffer;
let foreign: Buffer;
let foreignCa: Buffer;

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-discovery-")), "pki"), ocspUrl: AIA_URL });
  [ca, good, revoked, foreign, foreignCa] = (await Promise.all([pki.ca, pki.good, pki.revoked, pki.foreign, pki.foreignCa].map(readPemDer))) as [Buffer, Buffer, Buffer, Buffer, Buffer];
});

const NOTHING_SERVED: IssuerDirectory = { all: [], find: () => undefined };

/** Discovery where the CA is known only from the certificate cache, which also holds good.pem. */
function discovery(extra: Partial<DiscoveryOptions> = {}, issuers: IssuerDirectory = NOTHING_SERVED) {
  const cache = certificateCache({ persistent: [ca, good], maxCount: 10, maxBytes: 100_000 });
  return urlDiscovery({
    table: [
      { issuer: nameMatcher(["cn=Other CA,o=Acme,c=SE"], "t0"), url: new URL("http://other.example/") },
      { issuer: nameMatcher(["cn=Vouch Demo *,o=Vouch Demo,c=SE"], "t1"), url: new URL("http://table.example/ocsp") },
    ],
    allowed: urlAllowList(["http://allowed.example/*", AIA_URL], "allowedUrls"),
    cache,
    issuerOf: knownIssuers(issuers, cache),
    ...extra,
  });
}

/** What a method found, as "url" or "refused url", for asserting. */
const named = (found: { url: URL; allowed: boolean } | undefined): string | undefined => (found === undefined ? undefined : `${found.allowed ? "" : "refused "}${found.url.href}`);

const request = (issuer: Buffer, targets: Buffer[], urls: (string | undefined)[] = []) => decodeOcspRequest(serviceLocatorRequest(issuer, targets, urls));

describe("urlDiscovery", () => {
  test("table: the first row whose DN pattern matches the issuer found by CertID hashes in the certificate cache; configured URLs need no allow-list entry", () => {
    assert.equal(named(discovery().find("table", request(ca, [good, revoked]))), "http://table.example/ocsp");
  });

  test("table: an issuer served by this responder is known too; an unknown issuer names no URL", () => {
    const served: IssuerDirectory = { all: [], find: () => ({ certificate: ca }) as unknown as ServedIssuer };
    const noCache = discovery({ cache: undefined, issuerOf: knownIssuers(served, undefined) });
    assert.equal(named(noCache.find("table", request(ca, [good]))), "http://table.example/ocsp");
    assert.equal(discovery().find("table", request(foreignCa, [foreign])), undefined);
  });

  test("fromcert: the AIA OCSP URL of the target certificate found in the cache by issuer and serial", () => {
    assert.equal(named(discovery().find("fromcert", request(ca, [good]))), AIA_URL);
    assert.equal(named(discovery({ allowed: urlAllowList(["http://allowed.example/*"], "allowedUrls") }).find("fromcert", request(ca, [good]))), `refused ${AIA_URL}`, "outside allowedUrls");
    assert.equal(discovery().find("fromcert", request(ca, [revoked])), undefined, "revoked.pem is not in the cache");
    assert.equal(discovery().find("fromcert", request(ca, [good, revoked])), undefined, "every single request must name the URL");
  });

  test("fromcert: a certificate a client merely sent (unauthenticated) names no URL; once authenticated it does", () => {
    const cache = certificateCache({ persistent: [ca], maxCount: 10, maxBytes: 100_000 });
    const fromCache = discovery({ cache, issuerOf: knownIssuers(NOTHING_SERVED, cache) });
    cache.add(good);
    assert.equal(fromCache.find("fromcert", request(ca, [good])), undefined);
    cache.addAuthenticated(good);
    assert.equal(named(fromCache.find("fromcert", request(ca, [good]))), AIA_URL);
  });

  test("servicelocator: the request's first allowed URL; when none is allowed, the first, refused", () => {
    assert.equal(named(discovery().find("servicelocator", request(ca, [good], ["http://allowed.example/ocsp"]))), "http://allowed.example/ocsp");
    assert.equal(named(discovery().find("servicelocator", request(ca, [good], ["http://evil.example/ocsp"]))), "refused http://evil.example/ocsp");
    assert.equal(named(discovery().find("servicelocator", request(ca, [good], ["http://allowed.example.evil.test/"]))), "refused http://allowed.example.evil.test/");
    assert.equal(discovery().find("servicelocator", request(ca, [good])), undefined, "no extension");
  });

  test("a table URL is allowed whichever method names it", () => {
    assert.equal(named(discovery().find("servicelocator", request(ca, [good], ["http://table.example/ocsp"]))), "http://table.example/ocsp");
  });

  test("servicelocator: two single requests naming the same URL go there; different URLs, or one missing, name none", () => {
    const same = "http://allowed.example/a";
    assert.equal(named(discovery().find("servicelocator", request(ca, [good, revoked], [same, same]))), same);
    assert.equal(discovery().find("servicelocator", request(ca, [good, revoked], [same, "http://allowed.example/b"])), undefined);
    assert.equal(discovery().find("servicelocator", request(ca, [good, revoked], [same, undefined])), undefined);
  });

  test("servicelocator: an extension that is not a ServiceLocator names no URL", () => {
    const certId = encodeCertId("sha1", ca, certificateFields(good).serialNumber);
    const broken = sequence(oid(id_pkix_ocsp_service_locator), octetString(Buffer.from("0500", "hex")));
    const der = sequence(sequence(sequence(sequence(certId, explicit(0, sequence(broken))))));
    assert.equal(discovery().find("servicelocator", decodeOcspRequest(der)), undefined);
  });
});
