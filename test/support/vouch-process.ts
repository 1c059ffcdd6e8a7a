import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const MAIN = resolve(import.meta.dirname, "../../src/main.ts");

/** A `vouch serve` child process on loopback. */
export interface VouchProcess {
  /** Base URL of the first listener, e.g. http://127.0.0.1:40123 (no trailing slash). */
  readonly baseUrl: string;
  readonly port: number;
  readonly configFile: string;
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** Every line of standard output so far, as written (a parsed record hides a repeated key). */
  readonly lines: string[];
  /** SIGTERM, then wait for exit. */
  stop(): Promise<void>;
}

/**
 * Writes `configYaml` to a temp file and runs `node src/main.ts serve --config` on it; resolves once
 * the process logs that it listens (so the YAML's log level must be info or debug). Use port 0 in
 * the YAML to get a free port.
 */
export async function startVouch(configYaml: string, options: { cwd?: string; args?: string[] } = {}): Promise<VouchProcess> {
  const folder = await mkdtemp(join(tmpdir(), "vouch-e2e-"));
  const configFile = join(folder, "vouch.yaml");
  await writeFile(configFile, configYaml);
  return startVouchWithFile(configFile, options);
}

export async function startVouchWithFile(configFile: string, options: { cwd?: string; args?: string[] } = {}): Promise<VouchProcess> {
  const child = spawn(process.execPath, [MAIN, "serve", "--config", configFile, ...(options.args ?? [])], { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  const logs: Record<string, unknown>[] = [];
  const output: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`vouch did not start within 15 s: ${stderr}`));
    }, 15_000);
    lines.on("line", (line) => {
      output.push(line);
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(record);
      if (record.msg === "listening") {
        clearTimeout(timer);
        resolvePort(record.port as number);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`vouch exited with ${code}: ${stderr}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    configFile,
    child,
    logs,
    lines: output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Runs `vouch` with arguments and returns its exit code and output (for start-up failures). */
export async function runVouch(args: string[], options: { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15_000);
  const code = await new Promise<number | null>((done) => child.once("exit", (exitCode) => done(exitCode)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** SIGTERM, and the process must exit 0 within 20 s (then it is killed and the assertion fails). */
export async function stopAndExpectZero(vouch: VouchProcess): Promise<void> {
  const exited = new Promise<number | null>((resolve) => vouch.child.once("exit", resolve));
  vouch.child.kill("SIGTERM");
  const timer = setTimeout(() => vouch.child.kill("SIGKILL"), 20_000);
  assert.equal(await exited, 0, "every worker stopped and the process exited cleanly");
  clearTimeout(timer);
}
