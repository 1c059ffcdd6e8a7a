/**
 * trust.crls from a URL (issue 16 item 2): an offline root's CRL pulled from its distribution point
 * (a node:http server on loopback) by the same fetcher as a crl source's, for the validation process:
 * TLS clients (`curl --cert`) and request signers (`openssl ocsp -signer`) under the issuing CA are
 * accepted while the fetched root CRL does not list the CA, and refused once a newly published one does.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { CLIENT_EXTENSIONS, issueExtra } from "../support/certificates.ts";
import { clientAuthSetup, type ClientAuthSetup, type KeyPair } from "../support/client-auth-setup.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { offlineRoot, type OfflineRoot } from "../support/offline-root.ts";
import { startCrlServer, type CrlServer } from "../support/crl-server.ts";
import { until } from "../support/crl-fetching.ts";
import { vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

let pki: Pki;
let setup: ClientAuthSetup;
let root: OfflineRoot;
let rootCrl: string;
let server: CrlServer;
let vouch: VouchProcess;
let client: KeyPair;
let requestor: KeyPair;

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-trust-crl-url-"));
  pki = await createPki({ dir: join(base, "pki") });
  root = await offlineRoot(pki);
  rootCrl = join(base, "root.crl");
  await root.publishCrl(rootCrl);
  server = await startCrlServer("/root.crl");
  server.serve(await readFile(rootCrl));
  setup = await clientAuthSetup(pki, base);
  client = await issueExtra(pki, "client", { commonName: "Client", extensions: CLIENT_EXTENSIONS });
  requestor = await issueExtra(pki, "requestor", { commonName: "Requestor", extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n" });
  vouch = await startVouch(
    vouchConfig({
      trust: {
        anchors: [pki.root],
        certificates: setup.intermediates,
        // The offline root's CRL from its distribution point: the only source of the issuing CA's status.
        crls: [server.url],
        crlFetch: { stateFolder: join(base, "state"), maxInterval: "PT1S", retryInterval: "PT0.2S", maxRetryInterval: "PT1S", timeout: "PT5S" },
        rememberFor: "PT0S",
      },
      responders: setup.responders,
    }),
  );
});

after(async () => {
  await vouch?.stop();
  await server?.close();
});

describe("an offline root's CRL fetched from its distribution point gives the issuing CA's status", () => {
  test("the fetched root CRL does not list the issuing CA: its leaves authenticate", async () => {
    const tls = await setup.curl(client);
    assert.equal(tls.code, 0, tls.stderr);
    assert.deepEqual(certStatuses(tls.body), ["good"]);
    assert.match((await setup.signedQuery(`${vouch.baseUrl}/`, requestor)).stdout, /good\.pem: good/);
  });

  test("a newly published root CRL revoking the issuing CA reaches the validation process: its leaves are refused", async () => {
    await root.revoke(pki.ca, "keyCompromise");
    await root.publishCrl(rootCrl);
    server.serve(await readFile(rootCrl));
    await until("the TLS client refused", async () => (await setup.curl(client)).code, (code) => code !== 0);
    const tls = await setup.curl(client);
    assert.equal(tls.body.length, 0);
    assert.match((await setup.signedQuery(`${vouch.baseUrl}/`, requestor)).output, /Responder Error: unauthorized \(6\)/);
  });
});
