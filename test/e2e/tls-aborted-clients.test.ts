/**
 * Issue 12 item 5 from the outside: TLS clients that abort right after the handshake (a Node client
 * that rejects Vouch's certificate, as `vouch query` without the CA does, or one that destroys its
 * socket) and clients that stall mid-handshake. The server's file descriptors (/proc/<pid>/fd) come
 * back to where they were, with client authentication off and required, and SIGTERM does not wait
 * for any of them: the handshake deadline is set far beyond the test, so only noticing that a peer
 * left, or closing handshakes at the stop, can free them.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { connect as connectTcp, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { destroyingClient, leavingClient, rejectingClient, stalledClient } from "../support/aborting-tls-clients.ts";
import { issueExtra } from "../support/certificates.ts";
import { freePort } from "../support/free-port.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

let pki: Pki;
let vouch: VouchProcess;
let ports: { off: number; required: number };

before(async () => {
  pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-tls-aborted-")), "pki") });
  const server = await issueExtra(pki, "tls-server", {
    commonName: "127.0.0.1",
    extensions: "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
  });
  ports = { off: await freePort(), required: await freePort() };
  while (ports.required === ports.off) ports.required = await freePort();
  const responder = (name: "off" | "required") =>
    testResponder(name, [pkiIssuer(pki)], {
      listen: { host: "127.0.0.1", port: ports[name] },
      tls: { certificate: server.certificate, key: server.key, clientAuth: name },
      timeouts: { headers: "PT5M", request: "PT5M", keepAlive: "PT5M" },
    });
  vouch = await startVouch(
    vouchConfig({ trust: { anchors: [pki.root], unknownStatus: "pass" }, responders: [responder("off"), responder("required")] }),
    // One process, so that its descriptors are the listeners' (fixed ports would start a worker per core).
    { args: ["--workers", "1"] },
  );
  await waitForLogs(vouch, withMessage("ready"));
});

after(async () => {
  await vouch?.stop();
});

const serverDescriptors = (): number => readdirSync(`/proc/${vouch.child.pid}/fd`).length;

/** The server's descriptors once they stop falling (polled for up to 10 s). */
async function settledDescriptors(baseline: number): Promise<number> {
  for (let waited = 0; waited < 10_000 && serverDescriptors() > baseline; waited += 100) await sleep(100);
  return serverDescriptors();
}

describe("TLS clients that abort the handshake (issue 12 item 5)", () => {
  for (const listener of ["off", "required"] as const) {
    test(`clientAuth ${listener}: after 200 aborted clients the server's descriptors are back to where they were`, async () => {
      const port = ports[listener];
      // One completed exchange first, so that anything opened once (not per client) is in the baseline.
      await rejectingClient(port);
      const baseline = await settledDescriptors(serverDescriptors());
      // Whether a client's close reaches the server as a FIN mid-handshake or as a reset depends on
      // timing (a reset was always noticed); the third kind always leaves with a FIN.
      for (let i = 0; i < 70; i++) await rejectingClient(port);
      for (let i = 0; i < 70; i++) await destroyingClient(port);
      const left: Socket[] = [];
      for (let i = 0; i < 60; i++) left.push(await leavingClient(port));
      const settled = await settledDescriptors(baseline);
      assert.ok(settled <= baseline, `${settled} descriptors open, ${baseline} before`);
      for (const socket of left) socket.destroy();
    });
  }

  test("SIGTERM after aborted and stalled clients exits 0, long before the stop deadline", async () => {
    for (let i = 0; i < 20; i++) await rejectingClient(ports.off);
    // Clients that connect and then say nothing, or stall inside their ClientHello, and never leave.
    const stalled: Socket[] = [];
    for (const port of [ports.off, ports.required]) {
      const silent = connectTcp(port, "127.0.0.1");
      silent.on("error", () => {});
      stalled.push(silent, await stalledClient(port));
    }
    await sleep(200);
    // Killed (and failed) after 20 s; the stop deadline is 60 s, the handshake deadline 5 minutes.
    await stopAndExpectZero(vouch);
    assert.ok(!vouch.logs.some((record) => record.msg === "requests still in flight at the stop deadline; exiting"));
    for (const socket of stalled) socket.destroy();
  });
});
