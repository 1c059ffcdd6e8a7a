/**
 * Issue 12 item 3 from the outside: a client cannot steer forwarding. A fake internal host and a
 * fake remote responder (both HTTP servers on loopback that record every hit; the remote passes
 * requests on to OpenSSL's own responder) stand on either side of a front `vouch serve`.
 * - A forged look-alike of a certificate the front forwards for (same issuer name and serial, made
 *   with `openssl x509 -req` under a home-made CA of the same name, its AIA naming the internal host),
 *   sent in a request signed with `openssl ocsp -signer … -sign_other …`, must not become `fromcert`'s
 *   target for a later request: certificates from requests are untrusted until authenticated.
 * - URLs that `servicelocator` (from the request) and `fromcert` (from a CA-issued certificate) name
 *   outside `forwarding.allowedUrls` are refused: logged, counted, and the next method answers.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { serviceLocatorRequest } from "../../src/forwarding/test-support/service-locator-request.ts";
import { certificateSerial, createPki, openssl as runOpenssl, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { issueExtra } from "../support/certificates.ts";
import { openssl } from "../support/openssl.ts";
import { startOpensslResponder } from "../support/openssl-responder.ts";
import { parseSamples } from "../support/prometheus.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";
import { testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

const OPENSSL_SIGNER = /Responder Id: C = SE, O = Vouch Demo, CN = Vouch Demo OCSP Signer/;

/** An HTTP server on loopback that records the path of every POST and answers with `answer`. */
interface RecordingHost {
  readonly url: string;
  readonly hits: string[];
  readonly server: Server;
}

async function recordingHost(answer: (body: Buffer) => Promise<Buffer>): Promise<RecordingHost> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      hits.push(request.url ?? "");
      void answer(Buffer.concat(chunks)).then((body) => response.writeHead(200, { "content-type": "application/ocsp-response" }).end(body));
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, hits, server };
}

let folder: string;
let back: Pki;
let opensslBack: { url: string; stop: () => Promise<void> };
let internal: RecordingHost;
let remote: RecordingHost;
let front: VouchProcess;
let admin: string;
const made: Record<"routed" | "internalAia" | "forged" | "forgedCa" | "forgedKey", string> = {} as never;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-steer-"));
  back = await createPki({ dir: join(folder, "back") });
  opensslBack = await startOpensslResponder({ index: back.index, ca: back.ca, signer: back.signer, key: back.signerKey, validity: ["-ndays", "1"] });
  internal = await recordingHost(async () => Buffer.from("internal admin page"));
  remote = await recordingHost(async (body) => {
    const upstream = await fetch(opensslBack.url, { method: "POST", body, headers: { "content-type": "application/ocsp-request" } });
    return Buffer.from(await upstream.arrayBuffer());
  });
  const leaf = (aia: string) => `basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nauthorityInfoAccess = OCSP;URI:${aia}\n`;
  // Issued by the back CA itself: one routed to the remote, one whose AIA names the internal host.
  made.routed = (await issueExtra(back, "routed", { commonName: "routed.demo.vouch.test", extensions: leaf(`${remote.url}ocsp/fromcert`) })).certificate;
  made.internalAia = (await issueExtra(back, "internal-aia", { commonName: "internal-aia.demo.vouch.test", extensions: leaf(`${internal.url}admin`) })).certificate;

  // The forgery: a home-made CA named like the back CA, and under it a look-alike of good.pem.
  made.forgedKey = join(folder, "forged.key");
  made.forgedCa = join(folder, "forged-ca.pem");
  made.forged = join(folder, "forged.pem");
  const forgedCaKey = join(folder, "forged-ca.key");
  await runOpenssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", forgedCaKey]);
  await runOpenssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", made.forgedKey]);
  await runOpenssl(["req", "-new", "-x509", "-key", forgedCaKey, "-out", made.forgedCa, "-days", "30", "-subj", "/C=SE/O=Vouch Demo/CN=Vouch Demo Issuing CA", "-config", back.opensslConfig, "-extensions", "root_ext"]);
  const csr = join(folder, "forged.csr");
  const extfile = join(folder, "forged.ext");
  await writeFile(extfile, `[ ext ]\n${leaf(`${internal.url}steered`)}`);
  await runOpenssl(["req", "-new", "-key", made.forgedKey, "-out", csr, "-subj", "/C=SE/O=Vouch Demo/CN=good.demo.vouch.test", "-config", back.opensslConfig]);
  await runOpenssl(["x509", "-req", "-in", csr, "-CA", made.forgedCa, "-CAkey", forgedCaKey, "-set_serial", `0x${await certificateSerial(back.good)}`, "-days", "30", "-extfile", extfile, "-extensions", "ext", "-out", made.forged]);

  const certificates = join(folder, "front-certificates");
  await mkdir(certificates);
  await copyFile(back.ca, join(certificates, "back-ca.pem"));
  await copyFile(made.routed, join(certificates, "routed.pem"));
  await copyFile(made.internalAia, join(certificates, "internal-aia.pem"));
  const emptyIndex = join(folder, "empty-index.txt");
  await writeFile(emptyIndex, "");
  const backCaRow = "cn=Vouch Demo Issuing CA,o=Vouch Demo,c=SE";
  const responder = (name: string, methods: string[]) =>
    testResponder(name, [{ certificate: back.foreignCa, signer: { key: join(back.stateDir, "foreign-ca.key") }, sources: [{ type: "index", file: emptyIndex }] }], {
      path: `/${name}`,
      requestSignature: { required: false },
      forwarding: { methods, allowedUrls: [`${remote.url}ocsp/*`], table: [{ issuer: backCaRow, url: `${remote.url}ocsp/table` }] },
    });
  front = await startVouch(
    vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: 0 } },
      trust: { anchors: [back.root], certificates },
      responders: [responder("fromcert", ["fromcert", "table"]), responder("locator", ["servicelocator", "table"])],
    }),
  );
  admin = `http://127.0.0.1:${(await waitForLogs(front, withMessage("admin listening")))[0]!.port as number}`;
});

after(async () => {
  await front?.stop();
  await opensslBack?.stop();
  for (const host of [internal, remote]) if (host !== undefined) await new Promise((done) => host.server.close(done));
});

function query(path: string, certificate: string, extra: readonly string[] = []) {
  return openssl(["ocsp", "-url", `${front.baseUrl}/${path}`, "-issuer", back.ca, "-cert", certificate, "-CAfile", back.root, "-verify_other", back.ca, "-resp_text", "-timeout", "10", ...extra]);
}

async function refusedCount(responder: string, method: string): Promise<number> {
  const samples = parseSamples(await (await fetch(`${admin}/metrics`)).text());
  return samples.find((sample) => sample.name === "vouch_forwarding_urls_refused_total" && sample.labels.responder === responder && sample.labels.method === method)?.value ?? 0;
}

/** The front's warnings that it refused a URL, for `responder`. */
const refusals = (responder: string) => front.logs.filter((line) => line.responder === responder && line.result === "not-allowed");

describe("a client cannot steer forwarding", () => {
  test("a forged look-alike sent in a signed request never becomes fromcert's target", async () => {
    const signed = await query("fromcert", back.good, ["-signer", made.forged, "-signkey", made.forgedKey, "-sign_other", made.forgedCa]);
    assert.match(signed.output, /Responder Error: unauthorized \(6\)/, "the forged signer is not authenticated");
    const remoteHits = remote.hits.length;
    const later = await query("fromcert", back.good);
    assert.match(later.stdout, /good\.pem: good/);
    assert.match(later.output, OPENSSL_SIGNER);
    assert.deepEqual(internal.hits, [], "Vouch never posted to the internal host");
    assert.deepEqual(remote.hits.slice(remoteHits), ["/ocsp/table"], "fromcert found no target; the table answered");
  });

  test("fromcert to an allowed URL: the authenticated (configured) certificate's AIA", async () => {
    const remoteHits = remote.hits.length;
    const result = await query("fromcert", made.routed);
    assert.match(result.stdout, /routed\.pem: good/);
    assert.match(result.output, OPENSSL_SIGNER);
    assert.deepEqual(remote.hits.slice(remoteHits), ["/ocsp/fromcert"]);
  });

  test("fromcert naming a URL outside allowedUrls: refused, logged, counted; the next method answers", async () => {
    const counted = await refusedCount("fromcert", "fromcert");
    const remoteHits = remote.hits.length;
    const result = await query("fromcert", made.internalAia);
    assert.match(result.stdout, /internal-aia\.pem: good/);
    assert.deepEqual(internal.hits, []);
    assert.deepEqual(remote.hits.slice(remoteHits), ["/ocsp/table"]);
    assert.equal(await refusedCount("fromcert", "fromcert"), counted + 1);
    const [logged] = await waitForLogs(front, (line) => refusals("fromcert").includes(line));
    assert.equal(logged!.method, "fromcert");
    assert.equal(logged!.url, `${internal.url}admin`);
  });

  test("servicelocator naming a URL outside allowedUrls: refused, logged, counted; the table answers", async () => {
    const requestFile = join(folder, "locator.req");
    await writeFile(requestFile, serviceLocatorRequest(await readPemDer(back.ca), [await readPemDer(back.good)], [`${internal.url}steered`]));
    const counted = await refusedCount("locator", "servicelocator");
    const remoteHits = remote.hits.length;
    const result = await openssl(["ocsp", "-reqin", requestFile, "-url", `${front.baseUrl}/locator`, "-CAfile", back.root, "-verify_other", back.ca, "-resp_text", "-timeout", "10"]);
    assert.match(result.stdout, /Cert Status: good/);
    assert.match(result.output, OPENSSL_SIGNER);
    assert.deepEqual(internal.hits, []);
    assert.deepEqual(remote.hits.slice(remoteHits), ["/ocsp/table"]);
    assert.equal(await refusedCount("locator", "servicelocator"), counted + 1);
    await waitForLogs(front, (line) => refusals("locator").includes(line));
  });

  test("servicelocator naming an allowed URL goes there", async () => {
    const requestFile = join(folder, "locator-allowed.req");
    await writeFile(requestFile, serviceLocatorRequest(await readPemDer(back.ca), [await readPemDer(back.good)], [[`${internal.url}steered`, `${remote.url}ocsp/located`]]));
    const remoteHits = remote.hits.length;
    const result = await openssl(["ocsp", "-reqin", requestFile, "-url", `${front.baseUrl}/locator`, "-CAfile", back.root, "-verify_other", back.ca, "-resp_text", "-timeout", "10"]);
    assert.match(result.stdout, /Cert Status: good/);
    assert.deepEqual(remote.hits.slice(remoteHits), ["/ocsp/located"], "the first allowed locator");
    assert.deepEqual(internal.hits, []);
  });
});
