import { execFile } from "node:child_process";
import { readFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a CLI printed and how it ended. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr together (openssl ocsp splits its verdicts across both). */
  readonly output: string;
}

/** Runs the `openssl` CLI; never rejects on a non-zero exit (the test asserts on it). */
export function openssl(args: readonly string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile("openssl", args, { encoding: "utf8", timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

/** `openssl ocsp … -reqout` → the request DER it would send. */
export async function opensslRequest(args: readonly string[]): Promise<Buffer> {
  const folder = await mkdtemp(join(tmpdir(), "vouch-req-"));
  const file = join(folder, "request.der");
  const result = await openssl(["ocsp", ...args, "-reqout", file]);
  if (result.code !== 0) throw new Error(`openssl ocsp -reqout failed: ${result.output}`);
  return readFile(file);
}

/** Posts DER to an OCSP URL with fetch and returns status, headers and body. */
export async function postOcsp(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/ocsp-request", ...headers } });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** Fetches a GET URL and returns status, headers and body. */
export async function getOcsp(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** The OCSPResponseStatus of a response body, as `openssl ocsp -respin -resp_text` reports it. */
export async function responseText(body: Buffer, extra: readonly string[] = ["-noverify"]): Promise<CliResult> {
  const folder = await mkdtemp(join(tmpdir(), "vouch-resp-"));
  const file = join(folder, "response.der");
  await (await import("node:fs/promises")).writeFile(file, body);
  return openssl(["ocsp", "-respin", file, "-resp_text", ...extra]);
}
