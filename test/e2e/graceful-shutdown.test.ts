/**
 * Graceful shutdown (SPEC §7): SIGTERM stops accepting, and requests already in flight, in every
 * worker, still get their answers and their billing records before the process exits 0.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { certStatuses, responseStatusName } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

/** A POST whose headers are sent and acknowledged (100 Continue) but whose body is held back. */
async function halfSentRequest(port: number, body: Buffer): Promise<{ finish(): Promise<{ status: number; body: Buffer }> }> {
  const socket: Socket = connect(port, "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    socket.once("close", () => resolve());
    socket.once("error", reject);
  });
  socket.write(
    `POST / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/ocsp-request\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`,
  );
  // The server answers 100 Continue once its handler has the request: from then on it is in flight.
  const deadline = Date.now() + 20_000;
  while (!Buffer.concat(received).toString("latin1").includes("100 Continue")) {
    if (Date.now() > deadline) throw new Error("no 100 Continue");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  received.length = 0;
  return {
    finish: async () => {
      socket.write(body);
      await ended;
      const raw = Buffer.concat(received);
      const split = raw.indexOf("\r\n\r\n");
      const head = raw.subarray(0, split).toString("latin1");
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: raw.subarray(split + 4) };
    },
  };
}

for (const workers of [1, 2]) {
  test(`SIGTERM with ${workers} worker(s): requests in flight are answered and billed, new connections refused, exit 0`, async () => {
    const folder = await mkdtemp(join(tmpdir(), "vouch-shutdown-"));
    const pki = await createPki({ dir: join(folder, "pki") });
    const billing = join(folder, "billing");
    const vouch = await startVouch(
      vouchConfig({
        responders: [
          testResponder("graceful", [pkiIssuer(pki)], { listen: { host: "127.0.0.1", port: workers === 1 ? 0 : await freePort() }, billing: { sink: "file", directory: billing } }),
        ],
      }),
      { args: ["--workers", String(workers)] },
    );
    const exited = new Promise<number | null>((resolve) => vouch.child.once("exit", resolve));
    try {
      await waitForLogs(vouch, withMessage("ready"));
      const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked]);
      assert.equal((await postOcsp(`${vouch.baseUrl}/`, request)).status, 200, "one request before the stop");
      const pending = await Promise.all(Array.from({ length: 6 }, () => halfSentRequest(vouch.port, request)));
      vouch.child.kill("SIGTERM");
      await waitForLogs(vouch, (record) => record.msg === "stopping: finishing requests in flight", workers);
      await assert.rejects(postOcsp(`${vouch.baseUrl}/`, request), "a new connection is refused once stopping");
      const answers = await Promise.all(pending.map((request) => request.finish()));
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.equal(responseStatusName(answer.body), "successful");
        assert.deepEqual(certStatuses(answer.body), ["revoked"]);
      }
      assert.equal(await exited, 0);
      const files = await readdir(billing);
      const records = (await Promise.all(files.map((file) => readFile(join(billing, file), "utf8")))).join("").split("\n").filter((line) => line !== "");
      assert.equal(records.length, 7, "the request before the stop and the six in flight were billed");
    } finally {
      if (vouch.child.exitCode === null) vouch.child.kill("SIGKILL");
    }
  });
}
