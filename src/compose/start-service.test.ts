/**
 * Service.reload in one process, against real listeners: a request routed before the swap finishes
 * with the configuration it started with; a configuration that cannot be built changes nothing;
 * listeners follow the configured addresses (replaced when HTTP becomes HTTPS, closed when gone,
 * opened when new).
 */
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { mkdtemp } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicOCSPResponse, OCSPResponse } from "@peculiar/asn1-ocsp";
import { systemClock } from "../clock.ts";
import { parseConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import { silentLogger } from "../observability/logger.ts";
import { createPki, type Pki } from "../pki/openssl-pki.ts";
import { issueExtra } from "../../test/support/certificates.ts";
import { freePort } from "../../test/support/free-port.ts";
import { opensslRequest, postOcsp } from "../../test/support/openssl.ts";
import { pkiIssuer, pkiSigner, testResponder, vouchConfig } from "../../test/support/vouch-config.ts";
import { startService, type Service } from "./start-service.ts";

let pki: Pki;
let request: Buffer;
let tls: { certificate: string; key: string };
const services: Service[] = [];

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-start-service-")), "pki") });
  request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.good, "-no_nonce"]);
  tls = await issueExtra(pki, "tls-server", {
    commonName: "localhost",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
});

after(async () => {
  await Promise.all(services.map((service) => service.close()));
});

interface ResponderText {
  readonly name: string;
  readonly port: number;
  readonly validity?: string;
  readonly https?: boolean;
  readonly key?: string;
}

const config = (...responders: ResponderText[]) =>
  parseConfig(
    vouchConfig({
      responders: responders.map((responder) =>
        testResponder(responder.name, [pkiIssuer(pki, { signer: pkiSigner(pki, { key: responder.key ?? pki.signerKey }) })], {
          listen: { host: "127.0.0.1", port: responder.port },
          path: `/${responder.name}`,
          responseValidity: responder.validity ?? "PT1H",
          ...(responder.https === true ? { tls: { certificate: tls.certificate, key: tls.key } } : {}),
        }),
      ),
    }),
    join(pki.dir, "vouch.yaml"),
  );

async function start(...responders: ResponderText[]): Promise<Service> {
  const service = await startService(config(...responders), systemClock, silentLogger);
  services.push(service);
  return service;
}

function validitySeconds(body: Buffer): number {
  const basic = AsnConvert.parse(AsnConvert.parse(body, OCSPResponse).responseBytes!.response.buffer, BasicOCSPResponse);
  const single = basic.tbsResponseData.responses[0]!;
  return (single.nextUpdate!.getTime() - single.thisUpdate.getTime()) / 1000;
}

/** POSTs over HTTPS, not verifying the server (these tests are about which listener answers, not about TLS). */
function postHttps(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest({ host: "127.0.0.1", port, path, method: "POST", rejectUnauthorized: false, headers: { "content-type": "application/ocsp-request" } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve(Buffer.concat(chunks)));
    });
    outgoing.on("error", reject);
    outgoing.end(request);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

test("a request routed before a reload is answered with the configuration it started with; the next ones with the new", async () => {
  const service = await start({ name: "one", port: 0 });
  const port = service.listeners[0]!.port;
  // Headers sent, body held back: the request is routed (100 Continue) but not yet answered.
  const socket = connect(port, "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  socket.write(`POST /one HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: ${request.length}\r\nexpect: 100-continue\r\n\r\n`);
  while (!Buffer.concat(received).toString("latin1").includes("100 Continue")) await new Promise((resolve) => setTimeout(resolve, 10));
  received.length = 0;

  await service.reload(config({ name: "one", port: 0, validity: "PT2H" }));
  assert.equal(service.listeners[0]!.port, port, "the listener stays");
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.end(request);
  await closed;
  const raw = Buffer.concat(received);
  assert.equal(validitySeconds(raw.subarray(raw.indexOf("\r\n\r\n") + 4)), 3600, "the routed request kept the old responder");
  assert.equal(validitySeconds((await postOcsp(`http://127.0.0.1:${port}/one`, request)).body), 7200);
});

test("a reload that cannot be built rejects with the field and changes nothing", async () => {
  const service = await start({ name: "one", port: 0 });
  const port = service.listeners[0]!.port;
  await assert.rejects(
    service.reload(config({ name: "one", port: 0, validity: "PT2H" }, { name: "two", port: await freePort(), key: join(pki.dir, "missing.key") })),
    (error: unknown) => error instanceof ConfigError && error.field === "responders[1].issuers[0].signer.key",
  );
  assert.deepEqual(
    service.listeners.map((listener) => listener.port),
    [port],
  );
  assert.equal(validitySeconds((await postOcsp(`http://127.0.0.1:${port}/one`, request)).body), 3600);
});

test("listeners follow the addresses: HTTP turned HTTPS is replaced, a new address opens, a removed one closes", async () => {
  const service = await start({ name: "one", port: await freePort() });
  const port = service.listeners[0]!.port;
  const added = await freePort();
  await service.reload(config({ name: "one", port, https: true }, { name: "two", port: added, validity: "PT3H" }));
  assert.deepEqual(service.listeners.map((listener) => [listener.port, listener.kind]), [
    [port, "https"],
    [added, "http"],
  ]);
  assert.equal(validitySeconds(await postHttps(port, "/one")), 3600, "the same address now speaks HTTPS");
  assert.equal(validitySeconds((await postOcsp(`http://127.0.0.1:${added}/two`, request)).body), 10800);

  await service.reload(config({ name: "one", port, https: true }));
  assert.deepEqual(service.listeners.map((listener) => listener.port), [port]);
  assert.ok(await refused(added), "the removed address no longer accepts connections");
  assert.equal(validitySeconds(await postHttps(port, "/one")), 3600);
});
