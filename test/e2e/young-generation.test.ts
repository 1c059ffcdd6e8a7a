/**
 * The `vouch` command caps V8's young generation for `vouch serve` (issue 18: it grew to 64 MB under
 * load): bin/vouch.js re-executes itself with --max-semi-space-size=4, under the same pid, unless the
 * operator sized it (NODE_OPTIONS or node's own arguments). Linux: reads /proc/PID/cmdline.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { before, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { openssl } from "../support/openssl.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";

const BIN = resolve(import.meta.dirname, "../../bin/vouch.js");
let pki: Pki;
let configFile: string;

before(async () => {
  const folder = await mkdtemp(join(tmpdir(), "vouch-young-generation-"));
  pki = await createPki({ dir: join(folder, "pki") });
  configFile = join(folder, "vouch.yaml");
  await writeFile(configFile, vouchConfig({ responders: [testResponder("test", [pkiIssuer(pki)])] }));
});

/** Starts `node [nodeArgs] bin/vouch.js serve` with `env`, asks it about the good certificate with openssl ocsp, and returns the serving process's command line. */
async function serveAndAsk(nodeArgs: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, "serve", "--config", configFile, "--workers", "1"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`vouch did not start within 30 s: ${stderr}`)), 30_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        const record = JSON.parse(line) as { msg?: string; port?: number };
        if (record.msg === "listening") {
          clearTimeout(timer);
          resolvePort(record.port!);
        }
      });
      child.once("exit", (code) => reject(new Error(`vouch exited with ${code}: ${stderr}`)));
    });
    const answer = await openssl(["ocsp", "-url", `http://127.0.0.1:${port}/`, "-issuer", pki.ca, "-cert", pki.good, "-CAfile", pki.root, "-verify_other", pki.ca]);
    assert.match(answer.output, /Response verify OK/);
    assert.match(answer.stdout, /good\.pem: good/);
    // The pid that was spawned is the one serving: re-executed in place, not a child.
    return (await readFile(`/proc/${child.pid}/cmdline`, "utf8")).split("\0").filter((arg) => arg !== "");
  } finally {
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await exited;
  }
}

test("vouch serve runs in the pid it was started as, with semi-spaces of at most 4 MB", async () => {
  const args = await serveAndAsk([], { ...process.env, NODE_OPTIONS: "" });
  assert.equal(args.filter((arg) => arg.startsWith("--max-semi-space-size")).join(" "), "--max-semi-space-size=4");
  assert.deepEqual(args.slice(-5), ["serve", "--config", configFile, "--workers", "1"], "the same command");
});

test("an operator's own --max-semi-space-size wins, in NODE_OPTIONS or on node's command line", async () => {
  const viaEnvironment = await serveAndAsk([], { ...process.env, NODE_OPTIONS: "--max-semi-space-size=2" });
  assert.equal(viaEnvironment.filter((arg) => arg.startsWith("--max-semi-space-size")).length, 0, "not re-executed: NODE_OPTIONS sizes it");
  const viaArguments = await serveAndAsk(["--max-semi-space-size=8"], { ...process.env, NODE_OPTIONS: "" });
  assert.deepEqual(viaArguments.filter((arg) => arg.startsWith("--max-semi-space-size")), ["--max-semi-space-size=8"]);
});
