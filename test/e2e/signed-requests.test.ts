/**
 * SPEC steps 3 and 4 from the outside: requests signed by `openssl ocsp -signer … -signkey …`
 * (a client nobody here wrote), each refusal checked by the OCSP status openssl prints.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicOCSPResponse, OCSPRequest, OCSPResponse } from "@peculiar/asn1-ocsp";
import { createPki, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { CLIENT_EXTENSIONS, issueExtra } from "../support/certificates.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, pkiTrust, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let vouch: VouchProcess;
const requestors: Record<string, { certificate: string; key: string }> = {};

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-signed-"));
  pki = await createPki({ dir: join(base, "pki") });
  const signing = "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n";
  requestors.p256 = await issueExtra(pki, "requestor-p256", { commonName: "Requestor P256", extensions: signing });
  requestors.rsa = await issueExtra(pki, "requestor-rsa", { commonName: "Requestor RSA", extensions: signing, keyAlgorithm: "rsa" });
  requestors.expired = await issueExtra(pki, "requestor-expired", { commonName: "Requestor Expired", extensions: signing, startDate: "20200101000000Z", endDate: "20210101000000Z" });
  requestors.revoked = await issueExtra(pki, "requestor-revoked", { commonName: "Requestor Revoked", extensions: signing });
  requestors.usage = await issueExtra(pki, "requestor-usage", { commonName: "Requestor Encipher Only", extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,keyEncipherment\n" });
  requestors.client = await issueExtra(pki, "requestor-client", { commonName: "Other Client", extensions: CLIENT_EXTENSIONS });
  await revokeCertificate(pki, requestors.revoked.certificate, "keyCompromise");
  requestors.untrusted = { certificate: pki.foreign, key: join(pki.stateDir, "foreign.key") };
  // The RSA requestor is known in advance (persistent cache), so it can sign with -no_certs.
  const known = join(base, "known");
  await mkdir(known);
  await copyFile(requestors.rsa.certificate, join(known, "requestor-rsa.pem"));
  const issuers = [pkiIssuer(pki)];
  vouch = await startVouch(
    vouchConfig({
      trust: pkiTrust(pki, { certificates: known }),
      responders: [
        testResponder("signed", issuers, { path: "/signed", requestSignature: { required: true } }),
        testResponder("byname", issuers, { path: "/byname", authorization: { method: "byname", names: ["CN=Requestor P256,O=Vouch Demo,C=SE", "cn=requestor rsa,*"] } }),
        testResponder("byauth", issuers, { path: "/byauth", authorization: { method: "byauthentication" } }),
        testResponder("identrus", issuers, { type: "identrus-basic", path: "/identrus" }),
      ],
    }),
  );
});

after(async () => {
  await vouch?.stop();
});

function signedQuery(path: string, signer: { certificate: string; key: string }, extra: string[] = []) {
  return openssl([
    "ocsp", "-url", `${vouch.baseUrl}${path}`, "-issuer", pki.ca, "-cert", pki.good,
    "-signer", signer.certificate, "-signkey", signer.key, ...extra,
    "-CAfile", pki.root, "-verify_other", pki.ca,
  ]);
}

describe("signed requests (SPEC step 3)", () => {
  test("a request signed by an authenticated ECDSA requestor is answered", async () => {
    const result = await signedQuery("/signed", requestors.p256!);
    assert.match(result.output, /Response verify OK/);
    assert.match(result.stdout, /good\.pem: good/);
  });

  test("an RSA requestor, with -sign_other adding the CA certificate to the request", async () => {
    const result = await signedQuery("/signed", requestors.rsa!, ["-sign_other", pki.ca]);
    assert.match(result.stdout, /good\.pem: good/);
  });

  test("-no_certs: the signer is found by requestorName in the certificate cache", async () => {
    const preloaded = await signedQuery("/signed", requestors.rsa!, ["-no_certs"]);
    assert.match(preloaded.stdout, /good\.pem: good/, "from the configured folder");
    await signedQuery("/signed", requestors.p256!);
    const learned = await signedQuery("/signed", requestors.p256!, ["-no_certs"]);
    assert.match(learned.stdout, /good\.pem: good/, "learned from an earlier signed request");
  });

  test("an unsigned request gets sigRequired (status 5)", async () => {
    const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/signed`, "-issuer", pki.ca, "-cert", pki.good]);
    assert.match(result.output, /Responder Error: sigrequired \(5\)/);
  });

  const refused: [string, () => Promise<string>][] = [
    ["an expired signer", async () => (await signedQuery("/signed", requestors.expired!)).output],
    ["a revoked signer", async () => (await signedQuery("/signed", requestors.revoked!)).output],
    ["a signer from an untrusted root", async () => (await signedQuery("/signed", requestors.untrusted!)).output],
    ["a signer whose key usage does not allow signing", async () => (await signedQuery("/signed", requestors.usage!)).output],
    [
      "a tampered signature",
      async () => {
        const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-signer", requestors.p256!.certificate, "-signkey", requestors.p256!.key]);
        // Flip one bit inside the signature value, located with the reference codec.
        const signature = Buffer.from(AsnConvert.parse(request, OCSPRequest).optionalSignature!.signature);
        const tampered = Buffer.from(request);
        tampered[tampered.indexOf(signature) + 10]! ^= 0x01;
        return responseStatusName((await postOcsp(`${vouch.baseUrl}/signed`, tampered)).body);
      },
    ],
    [
      "an unknown signer with -no_certs",
      async () => (await signedQuery("/signed", requestors.client!, ["-no_certs"])).output,
    ],
  ];
  for (const [name, attempt] of refused) {
    test(`${name} gets unauthorized (status 6)`, async () => {
      assert.match(await attempt(), /unauthorized/i);
    });
  }
});

describe("authorization (SPEC step 4)", () => {
  test("byname: a requestor on the name match table is answered", async () => {
    assert.match((await signedQuery("/byname", requestors.p256!)).stdout, /good\.pem: good/);
    assert.match((await signedQuery("/byname", requestors.rsa!)).stdout, /good\.pem: good/, "patterns are case-insensitive, with wildcards");
  });

  test("byname: an authenticated requestor not on the table gets unauthorized", async () => {
    assert.match((await signedQuery("/byname", requestors.client!)).output, /Responder Error: unauthorized \(6\)/);
  });

  test("byname: an unsigned request authenticates nothing, so it is unauthorized", async () => {
    const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/byname`, "-issuer", pki.ca, "-cert", pki.good]);
    assert.match(result.output, /Responder Error: unauthorized \(6\)/);
  });

  test("byauthentication: any authenticated signer is enough; unsigned is refused", async () => {
    assert.match((await signedQuery("/byauth", requestors.client!)).stdout, /good\.pem: good/);
    const unsigned = await postOcsp(`${vouch.baseUrl}/byauth`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good]));
    assert.equal(responseStatusName(unsigned.body), "unauthorized");
  });

  test("a present but failing signature on a byauthentication responder is refused", async () => {
    const result = await signedQuery("/byauth", requestors.expired!);
    assert.match(result.output, /unauthorized/);
    const fine = await postOcsp(`${vouch.baseUrl}/byauth`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-signer", requestors.p256!.certificate, "-signkey", requestors.p256!.key]));
    assert.deepEqual(certStatuses(fine.body), ["good"]);
  });
});

describe("the identrus-basic responder type", () => {
  test("requires signed requests, and sends the full signer chain", async () => {
    const unsigned = await openssl(["ocsp", "-url", `${vouch.baseUrl}/identrus`, "-issuer", pki.ca, "-cert", pki.good]);
    assert.match(unsigned.output, /Responder Error: sigrequired \(5\)/);
    const signed = await postOcsp(`${vouch.baseUrl}/identrus`, await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-signer", requestors.p256!.certificate, "-signkey", requestors.p256!.key]));
    assert.deepEqual(certStatuses(signed.body), ["good"]);
    const basic = AsnConvert.parse(AsnConvert.parse(signed.body, OCSPResponse).responseBytes!.response.buffer, BasicOCSPResponse);
    assert.equal(basic.certs?.length, 2, "the delegated signer and its CA");
  });
});
