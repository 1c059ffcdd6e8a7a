/**
 * `vouch serve --threads N`: every thread serves the same ports (SO_REUSEPORT), all answer
 * correctly, and SIGTERM stops them all.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPki } from "../../src/pki/openssl-pki.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { opensslRequest, postOcsp } from "../support/openssl.ts";
import { runVouch, startVouch } from "../support/vouch-process.ts";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

test("two serving threads share the port, both answer, and SIGTERM stops the process", async () => {
  const pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-threads-")), "pki") });
  const port = await freePort();
  const vouch = await startVouch(
    `log: { level: info }
responders:
  - name: threaded
    listen: { host: 127.0.0.1, port: ${port} }
    issuers:
      - certificate: ${pki.ca}
        signer: { certificate: ${pki.signer}, key: ${pki.signerKey} }
        sources: [{ type: index, file: ${pki.index} }]
`,
    { args: ["--threads", "2"] },
  );
  try {
    const deadline = Date.now() + 10_000;
    while (vouch.logs.filter((record) => record.msg === "listening").length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(vouch.logs.filter((record) => record.msg === "listening").length, 2, "each thread listens");
    const request = await opensslRequest(["-issuer", pki.ca, "-cert", pki.revoked, "-no_nonce"]);
    const answers = await Promise.all(Array.from({ length: 40 }, () => postOcsp(`${vouch.baseUrl}/`, request, { connection: "close" })));
    assert.ok(answers.every((answer) => certStatuses(answer.body)[0] === "revoked"));
  } finally {
    const exited = new Promise<number | null>((resolve) => vouch.child.once("exit", resolve));
    vouch.child.kill("SIGTERM");
    const timer = setTimeout(() => vouch.child.kill("SIGKILL"), 8000);
    assert.equal(await exited, 0, "all threads stopped and the process exited cleanly");
    clearTimeout(timer);
  }
});

test("--threads must be a whole number, and needs fixed ports", async () => {
  const badCount = await runVouch(["serve", "--config", "/nonexistent.yaml", "--threads", "0"]);
  assert.notEqual(badCount.code, 0);
  assert.match(badCount.stderr, /--threads.*whole number/);
  const folder = await mkdtemp(join(tmpdir(), "vouch-threads-"));
  const pki = await createPki({ dir: join(folder, "pki") });
  const file = join(folder, "vouch.yaml");
  await writeFile(file, `responders:
  - name: zero
    listen: { port: 0 }
    issuers:
      - certificate: ${pki.ca}
        signer: { key: ${pki.caKey} }
        sources: [{ type: index, file: ${pki.index} }]
`);
  const zero = await runVouch(["serve", "--config", file, "--threads", "2"]);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /responders\[0\]\.listen\.port: --threads needs fixed ports/);
});
