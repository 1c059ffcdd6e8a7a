/**
 * What `vouch serve` can start before the rest of Vouch's modules are loaded (bin/vouch.js runs
 * this first): the loads of the configuration's index files (status/index-preload.ts), which then
 * run on worker threads while the main thread loads and builds everything else. Only for a serve
 * that serves in this process (`--workers 1`, or one CPU); a supervisor serves nothing itself.
 * Never throws: whatever is wrong with the arguments or the file is reported by the real start.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { preloadIndex } from "../status/index/index-preload.ts";

export async function startEarly(args: readonly string[]): Promise<void> {
  try {
    if (args[0] !== "serve") return;
    const configFile = option(args, ["-c", "--config"]);
    const workers = option(args, ["-w", "--workers", "-t", "--threads"]);
    if (configFile === undefined || (workers === undefined ? availableParallelism() !== 1 : Number(workers) !== 1)) return;
    const text = readFileSync(configFile, "utf8");
    // Most configurations have no index source: they need not even load the YAML parser this early.
    if (!/\bindex\b/.test(text)) return;
    const { parse } = await import("yaml");
    for (const file of indexFiles(parse(text))) preloadIndex(isAbsolute(file) ? file : resolve(dirname(resolve(configFile)), file));
  } catch {
    // The real start reads the same arguments and file, and says what is wrong.
  }
}

/** The value of the first of `names` in `args` (`--name value` or `--name=value`). */
function option(args: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] ?? "";
    for (const name of names) {
      if (arg === name) return args[i + 1];
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    }
  }
  return undefined;
}

/** `responders[].issuers[].sources[]` entries of type index: their `file`, as written. */
function indexFiles(config: unknown): string[] {
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  const field = (value: unknown, name: string): unknown => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined);
  const files: string[] = [];
  for (const responder of list(field(config, "responders"))) {
    for (const issuer of list(field(responder, "issuers"))) {
      for (const source of list(field(issuer, "sources"))) {
        const file = field(source, "file");
        if (field(source, "type") === "index" && typeof file === "string" && file !== "") files.push(file);
      }
    }
  }
  return files;
}
