/**
 * One `vouch serve` per port: workers listen with SO_REUSEPORT, so without a guard a second serve of
 * the same configuration would share every port with the first, silently. A second serve is refused
 * with one line naming the first one's pid, with worker processes and with worker threads, while
 * the first keeps answering; two started at the same moment end with exactly one serving; another
 * program's SO_REUSEPORT socket on the port is refused too.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { freePort } from "../support/free-port.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { runVouch, startVouch, stopAndExpectZero, type VouchProcess } from "../support/vouch-process.ts";
import { waitForLogs, withMessage } from "../support/wait-for-log.ts";

const MAIN = resolve(import.meta.dirname, "../../src/main.ts");

describe("one vouch serve per port", () => {
  let pki: Pki;
  before(async () => {
    pki = await createPki({ dir: join(await mkdtemp(join(tmpdir(), "vouch-single-")), "pki") });
  });

  const configYaml = (port: number) => vouchConfig({ responders: [testResponder("only", [pkiIssuer(pki)], { listen: { host: "127.0.0.1", port } })] });

  /** `openssl ocsp` against the first serve: it must still answer, and with the right status. */
  const expectRevoked = async (vouch: VouchProcess) => {
    const result = await openssl(["ocsp", "-url", `${vouch.baseUrl}/`, "-issuer", pki.ca, "-cert", pki.revoked, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /: revoked/);
  };

  for (const mode of [["--workers", "2"], ["--workers", "2", "--worker-threads"]]) {
    test(`a second serve ${mode.join(" ")} of the same configuration is refused, naming the first`, async () => {
      const vouch = await startVouch(configYaml(await freePort()), { args: mode });
      try {
        await waitForLogs(vouch, withMessage("ready"), 1);
        const second = await runVouch(["serve", "--config", vouch.configFile, ...mode]);
        assert.equal(second.code, 2, `refused: ${second.stderr}`);
        assert.equal(
          second.stderr,
          `vouch: ${vouch.configFile}: responders[0].listen: 127.0.0.1:${vouch.port} is already served by another vouch serve (pid ${vouch.child.pid})\n`,
        );
        await expectRevoked(vouch);
      } finally {
        await stopAndExpectZero(vouch);
      }
    });
  }

  test("of two serves started at the same moment, exactly one serves", async () => {
    const folder = await mkdtemp(join(tmpdir(), "vouch-single-"));
    const configFile = join(folder, "vouch.yaml");
    await writeFile(configFile, configYaml(await freePort()));
    const start = () => {
      const child = spawn(process.execPath, [MAIN, "serve", "--config", configFile, "--workers", "2"], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const outcome = new Promise<string>((done) => {
        createInterface({ input: child.stdout }).on("line", (line) => {
          if (line.includes('"msg":"ready"')) done("ready");
        });
        child.once("exit", (code) => done(`exit ${code}: ${stderr}`));
      });
      return { child, outcome };
    };
    const both = [start(), start()];
    try {
      const outcomes = await Promise.all(both.map((one) => one.outcome));
      assert.equal(outcomes.filter((outcome) => outcome === "ready").length, 1, outcomes.join(" | "));
      assert.match(outcomes.find((outcome) => outcome !== "ready") ?? "", /^exit 2: vouch: .*responders\[0\]\.listen: 127\.0\.0\.1:\d+ is (already served by another vouch serve|in use)/);
    } finally {
      await Promise.all(
        both.map(({ child }) => (child.exitCode === null && child.signalCode === null ? new Promise((done) => child.once("exit", done).kill("SIGTERM")) : undefined)),
      );
    }
  });

  test("another program's socket on the port is not shared, even with SO_REUSEPORT", async () => {
    const other = createServer();
    await new Promise<void>((done) => other.listen({ host: "127.0.0.1", port: 0, reusePort: true }, done));
    const { port } = other.address() as { port: number };
    try {
      const folder = await mkdtemp(join(tmpdir(), "vouch-single-"));
      const configFile = join(folder, "vouch.yaml");
      await writeFile(configFile, configYaml(port));
      const refused = await runVouch(["serve", "--config", configFile, "--workers", "2"]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.equal(refused.stderr, `vouch: ${configFile}: responders[0].listen: 127.0.0.1:${port} is in use by another process (EADDRINUSE)\n`);
    } finally {
      other.close();
    }
  });
});
