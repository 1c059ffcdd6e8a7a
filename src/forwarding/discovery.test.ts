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
import type { IssuerDirectory, ServedIssuer } from "../pipeline/issuer-directory.ts";
import { createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { certificateCache } from "../trust/memory-certificate-cache.ts";
import { nameMatcher } from "../trust/name-match.ts";
import { urlDiscovery, type DiscoveryOptions } from "./discovery.ts";
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
    serviceLocatorAllow: ["http://allowed.example/"],
    cache,
    issuerOf: knownIssuers(issuers, cache),
    ...extra,
  });
}

const request = (issuer: Buffer, targets: Buffer[], urls: (string | undefined)[] = []) => decodeOcspRequest(serviceLocatorRequest(issuer, targets, urls));

describe("urlDiscovery", () => {
  test("table: the first row whose DN pattern matches the issuer found by CertID hashes in the certificate cache", () => {
    assert.equal(discovery().find("table", request(ca, [good, revoked]))?.href, "http://table.example/ocsp");
  });

  test("table: an issuer served by this responder is known too; an unknown issuer names no URL", () => {
    const served: IssuerDirectory = { all: [], find: () => ({ certificate: ca }) as unknown as ServedIssuer };
    const noCache = discovery({ cache: undefined, issuerOf: knownIssuers(served, undefined) });
    assert.equal(noCache.find("table", request(ca, [good]))?.href, "http://table.example/ocsp");
    assert.equal(discovery().find("table", request(foreignCa, [foreign])), undefined);
  });

  test("fromcert: the AIA OCSP URL of the target certificate found in the cache by issuer and serial", () => {
    assert.equal(discovery().find("fromcert", request(ca, [good]))?.href, AIA_URL);
    assert.equal(discovery().find("fromcert", request(ca, [revoked])), undefined, "revoked.pem is not in the cache");
    assert.equal(discovery().find("fromcert", request(ca, [good, revoked])), undefined, "every single request must name the URL");
  });

  test("servicelocator: the request's URL when it starts with an allowed prefix", () => {
    assert.equal(discovery().find("servicelocator", request(ca, [good], ["http://allowed.example/ocsp"]))?.href, "http://allowed.example/ocsp");
    assert.equal(discovery().find("servicelocator", request(ca, [good], ["http://evil.example/ocsp"])), undefined);
    assert.equal(discovery().find("servicelocator", request(ca, [good], ["http://allowed.example.evil.test/"])), undefined);
    assert.equal(discovery().find("servicelocator", request(ca, [good])), undefined, "no extension");
  });

  test("servicelocator: two single requests naming the same URL go there; different URLs, or one missing, name none", () => {
    const same = "http://allowed.example/a";
    assert.equal(discovery().find("servicelocator", request(ca, [good, revoked], [same, same]))?.href, same);
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
