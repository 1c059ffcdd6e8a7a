/**
 * "Offline roots work" (issue 12): a normal two-tier PKI, an offline root over an issuing CA over
 * the leaves, authenticates TLS clients (`curl --cert`) and request signers (`openssl ocsp -signer`)
 * without Vouch serving the root as a responder: `trust.crls` gives the validation process the root's
 * CRL (made by `openssl ca -gencrl` with the root's own CA database) for the issuing CA's status,
 * and the default `unknownStatus: fail` stays on. The CRL is replaced on disk between the steps:
 * current and silent about the CA, then past its nextUpdate, then revoking the CA.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { CLIENT_EXTENSIONS, issueExtra } from "../support/certificates.ts";
import { clientAuthSetup, type ClientAuthSetup, type KeyPair } from "../support/client-auth-setup.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { offlineRoot, type OfflineRoot } from "../support/offline-root.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";
import { vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

const HOUR = 3_600_000;

let pki: Pki;
let setup: ClientAuthSetup;
let root: OfflineRoot;
let rootCrl: string;
let vouch: VouchProcess;
let client: KeyPair;
let requestor: KeyPair;

before(async () => {
  const base = await mkdtemp(join(tmpdir(), "vouch-offline-root-"));
  pki = await createPki({ dir: join(base, "pki") });
  root = await offlineRoot(pki);
  rootCrl = join(base, "root.crl");
  await root.publishCrl(rootCrl);
  setup = await clientAuthSetup(pki, base);
  client = await issueExtra(pki, "client", { commonName: "Client", extensions: CLIENT_EXTENSIONS });
  requestor = await issueExtra(pki, "requestor", { commonName: "Requestor", extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n" });
  vouch = await startVouch(
    vouchConfig({
      trust: {
        anchors: [pki.root],
        certificates: setup.intermediates,
        // The offline root's CRL: the only source of the issuing CA's status (unknownStatus stays fail).
        crls: [rootCrl],
        // Every handshake and signed request is validated anew, so a new CRL counts at once.
        rememberFor: "PT0S",
      },
      responders: setup.responders,
    }),
  );
});

after(async () => {
  await vouch?.stop();
});

const curl = () => setup.curl(client);
const signedQuery = () => setup.signedQuery(`${vouch.baseUrl}/`, requestor);

/** Replaces the root's CRL on disk and waits until Vouch has reloaded it (the `reloads`-th reload). */
async function replaceRootCrl(reloads: number, times?: { thisUpdate: Date; nextUpdate: Date }): Promise<void> {
  await root.publishCrl(rootCrl, times);
  await waitForLogs(vouch, withMessage("CRL reloaded"), reloads);
}

/** The failed check the log names for the last refused TLS client or request signer. */
const refusedFor = () =>
  vouch.logs
    .filter((line) => line.level === "warn" || line.level === "info")
    .map((line) => JSON.stringify(line))
    .filter((line) => /Vouch Demo Issuing CA/.test(line) && /(revoked|status-unknown|unknown)/.test(line));

async function assertAccepted(): Promise<void> {
  const tls = await curl();
  assert.equal(tls.code, 0, tls.stderr);
  assert.deepEqual(certStatuses(tls.body), ["good"], "the TLS client is answered");
  assert.match((await signedQuery()).stdout, /good\.pem: good/, "the signed request is answered");
}

async function assertRefused(): Promise<void> {
  const tls = await curl();
  assert.notEqual(tls.code, 0, "the TLS client is disconnected");
  assert.equal(tls.body.length, 0);
  assert.match((await signedQuery()).output, /Responder Error: unauthorized \(6\)/, "the signed request is refused");
}

describe("an offline root's CRL gives the issuing CA's status", () => {
  test("a current root CRL that does not list the issuing CA: its leaves authenticate", async () => {
    await assertAccepted();
  });

  test("the root CRL past its nextUpdate: the CA's status is unknown, so its leaves are refused", async () => {
    const now = Date.now();
    await replaceRootCrl(1, { thisUpdate: new Date(now - 2 * HOUR), nextUpdate: new Date(now - HOUR) });
    await assertRefused();
    assert.ok(refusedFor().some((line) => /status-unknown/.test(line)), "the log names status-unknown for the issuing CA");
  });

  test("a new root CRL revoking the issuing CA: its leaves are refused", async () => {
    await root.revoke(pki.ca, "keyCompromise");
    await replaceRootCrl(2);
    await assertRefused();
    assert.ok(refusedFor().some((line) => /"revoked|revoked at/.test(line)), "the log names the revoked issuing CA");
  });
});
