import { spawn } from "node:child_process";

/** Most output kept from a renewal command: a certificate chain is a few KiB. */
const MAX_STDOUT = 1024 * 1024;
const MAX_STDERR = 16 * 1024;

export interface CommandResult {
  readonly stdout: string;
}

/**
 * Runs `command` (a program and its arguments, no shell) with `input` on standard input and
 * resolves with its standard output when it exits 0. Rejects with one line saying why otherwise:
 * it could not start, it exited non-zero or by a signal (with the last line of its standard error),
 * it ran past `timeoutMs`, or it wrote more than 1 MiB. Then its whole process group is killed: a
 * shell script's children (a hung `curl`) would otherwise keep the pipes, and the renewal, open.
 */
export function runRenewalCommand(command: readonly string[], input: string, timeoutMs: number, env: Readonly<Record<string, string>>): Promise<CommandResult> {
  return new Promise((resolvePromise, rejectPromise) => {
    // 'error' (it could not start) may be followed by 'close': settle once.
    let settled = false;
    const resolve = (result: CommandResult) => {
      if (!settled) resolvePromise(result);
      settled = true;
    };
    const reject = (error: Error) => {
      if (!settled) rejectPromise(error);
      settled = true;
    };
    const child = spawn(command[0]!, command.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env }, detached: true });
    let stdout = "";
    let stderr = "";
    let failure: string | undefined;
    const fail = (reason: string) => {
      failure ??= reason;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      reject(new Error(`${command[0]} ${reason}`));
    };
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_STDOUT) fail("wrote more than 1 MiB to standard output");
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_STDERR);
    });
    // A command that exits without reading its input closes the pipe: not a failure of ours.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command[0]}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const lastLine = stderr.trim().split("\n").pop()?.trim() ?? "";
      if (failure !== undefined) reject(new Error(`${command[0]} ${failure}`));
      else if (code !== 0) reject(new Error(`${command[0]} exited with ${code ?? signal}${lastLine === "" ? "" : `: ${lastLine}`}`));
      else resolve({ stdout });
    });
  });
}
