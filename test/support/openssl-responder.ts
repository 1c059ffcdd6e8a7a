import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** What OpenSSL's own responder serves: a CA database, its CA, the signer's certificate and key. */
export interface OpensslResponderOptions {
  readonly index: string;
  readonly ca: string;
  readonly signer: string;
  readonly key: string;
  /** How long its answers are valid, as `openssl ocsp` takes it (e.g. ["-ndays", "1"], ["-nmin", "60"]). */
  readonly validity: readonly string[];
}

/** `openssl ocsp` as a responder on a port of its choosing; resolves once it accepts connections. */
export async function startOpensslResponder(options: OpensslResponderOptions): Promise<{ url: string; stop: () => Promise<void> }> {
  const args = ["ocsp", "-index", options.index, "-port", "0", "-rsigner", options.signer, "-rkey", options.key, "-CA", options.ca, ...options.validity];
  const child: ChildProcess = spawn("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("openssl ocsp did not start")), 15_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /^ACCEPT .*:(\d+) /.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`openssl ocsp exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
