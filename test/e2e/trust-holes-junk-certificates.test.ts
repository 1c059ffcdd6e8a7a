/**
 * Issue 12 item 8 from the outside: junk certificates sent in signed requests cannot make later
 * signed requests slow. The attacker replays one request that a real requestor signed with
 * `openssl ocsp -signer` (its signature stays valid: it covers only tbsRequest), each time with the
 * requestor's certificate swapped for a junk copy: same subject, same key, a random serial (so its
 * CA's signature no longer verifies). Then the requestor signs a request with `-no_certs`, found by
 * name. What is asserted is deterministic, from /metrics: the certificates the cache holds per tier
 * and the candidates the legitimate request tried; the server CPU it cost is reported, not asserted.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { certificateFields } from "../../src/ocsp/certificate-fields.ts";
import { createPki, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { issueExtra } from "../support/certificates.ts";
import { responseStatusName } from "../support/ocsp-response.ts";
import { openssl, opensslRequest, postOcsp } from "../support/openssl.ts";
import { parseSamples, type Sample } from "../support/prometheus.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

/** More junk than the issue's 1,200, sent this many at a time. */
const JUNK = 1_250;
const CONCURRENCY = 16;
/** What one signed request may try, and what the cache may hold of what nobody authenticated. */
const MAX_CANDIDATES = 8;
const MAX_UNAUTHENTICATED = 128;

let pki: Pki;
let vouch: VouchProcess;
let admin: string;
let requestor: { certificate: string; key: string };

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-junk-"));
  pki = await createPki({ dir: join(base, "pki") });
  requestor = await issueExtra(pki, "requestor", { commonName: "Requestor", extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n" });
  const intermediates = join(base, "intermediates");
  await mkdir(intermediates);
  await copyFile(pki.ca, join(intermediates, "ca.pem"));
  vouch = await startVouch(
    vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: 0 } },
      trust: {
        anchors: [pki.root],
        // The test root publishes no CRL; the requestor's own status comes from the CA's index.txt.
        unknownStatus: "pass",
        certificates: intermediates,
      },
      responders: [testResponder("signed", [pkiIssuer(pki)], { requestSignature: { required: true } })],
    }),
  );
  admin = `http://127.0.0.1:${(await waitForLogs(vouch, withMessage("admin listening")))[0]!.port as number}`;
});

after(async () => {
  await vouch?.stop();
});

async function scrape(): Promise<Sample[]> {
  return parseSamples(await (await fetch(`${admin}/metrics`)).text());
}

/** The value of `name` with these labels, 0 when there is no such series. */
function value(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, v]) => sample.labels[key] === v)).reduce((sum, sample) => sum + sample.value, 0);
}

/** user + system CPU of the server process so far, in clock ticks (1/100 s on Linux). */
async function serverCpuTicks(): Promise<number> {
  const stat = await readFile(`/proc/${vouch.child.pid}/stat`, "latin1");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** `request` with its first copy of `certificate` replaced by a junk copy: the serial's octets randomised. */
function withJunkCertificate(request: Buffer, certificate: Buffer): Buffer {
  const serial = certificateFields(certificate).serialNumber;
  const serialAt = certificate.indexOf(Buffer.concat([Buffer.from([0x02, serial.length]), serial])) + 2;
  const junk = Buffer.from(certificate);
  randomBytes(serial.length).copy(junk, serialAt);
  junk[serialAt] = (junk[serialAt]! & 0x7f) | 0x01;
  const at = request.indexOf(certificate);
  return Buffer.concat([request.subarray(0, at), junk, request.subarray(at + certificate.length)]);
}

const legitimate = () =>
  openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-signer", requestor.certificate, "-signkey", requestor.key, "-no_certs", "-CAfile", pki.root, "-verify_other", pki.ca]);

/** Server CPU per legitimate request over `rounds` of them, in ms (ticks of 10 ms, hence the rounds). */
async function cpuPerLegitimateRequest(rounds = 20): Promise<number> {
  const start = await serverCpuTicks();
  for (let i = 0; i < rounds; i++) assert.match((await legitimate()).stdout, /good\.pem: good/);
  return (((await serverCpuTicks()) - start) * 10) / rounds;
}

describe("junk certificates in signed requests", () => {
  test(`${JUNK} replayed requests with junk look-alikes of the requestor, then its -no_certs request`, async (t) => {
    // A regular client: it signed with its certificate once (so Vouch knows it), then by name only.
    const withCertificate = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.good, "-signer", requestor.certificate, "-signkey", requestor.key, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(withCertificate.stdout, /good\.pem: good/);
    const cpuBefore = await cpuPerLegitimateRequest();

    const captured = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-signer", requestor.certificate, "-signkey", requestor.key, "-no_nonce"]);
    const certificate = await readPemDer(requestor.certificate);
    let next = 0;
    const statuses = new Map<string, number>();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < JUNK) {
          next++;
          const status = responseStatusName((await postOcsp(`${vouch.baseUrl}/`, withJunkCertificate(captured, certificate))).body);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );

    const before = await scrape();
    const answer = await legitimate();
    const after = await scrape();
    const cpuAfter = await cpuPerLegitimateRequest();
    // Reported, not asserted (the machine is shared).
    t.diagnostic(`server CPU per legitimate -no_certs request: ${cpuBefore.toFixed(1)} ms before the junk, ${cpuAfter.toFixed(1)} ms after ${JUNK} junk requests`);

    // A replay of a signed request without a nonce is still signed by the requestor: it may be answered.
    assert.equal([...statuses.values()].reduce((sum, count) => sum + count, 0), JUNK, "every junk request got an OCSP response");
    assert.match(answer.stdout, /good\.pem: good/, answer.output);
    const considered = value(after, "vouch_request_signature_candidates_total") - value(before, "vouch_request_signature_candidates_total");
    assert.ok(considered >= 1 && considered <= MAX_CANDIDATES, `the legitimate request considered ${considered} candidate signer certificates`);
    const unauthenticated = value(after, "vouch_certificate_cache_certificates", { tier: "unauthenticated" });
    const learned = after.filter((sample) => sample.name === "vouch_certificate_cache_certificates" && sample.labels.tier !== "persistent").reduce((sum, sample) => sum + sample.value, 0);
    assert.ok(unauthenticated > 0 && unauthenticated <= MAX_UNAUTHENTICATED, `${unauthenticated} unauthenticated certificates held`);
    assert.ok(learned <= MAX_UNAUTHENTICATED + 4, `${learned} certificates held besides the configured ones (the requestor, plus the bounded junk)`);
  });
});
