/**
 * Vouch as an operator installs it: `npm pack` (its prepack builds dist/) and `npm install -g` of
 * the tarball into a prefix, run with the Node 24 that runs the tests first on PATH. The pack runs
 * in a copy of the working tree, so the suite's own dist/ is never rebuilt under other tests.
 */
import { cp, mkdtemp, readdir, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { runOrThrow } from "./command.ts";

export const PROJECT_ROOT = resolve(import.meta.dirname, "../..");

/** What the copy leaves out: installed and built things, and what runs or results left behind. */
const NOT_COPIED = new Set(["node_modules", "dist", ".git", "vouch-demo", ".tmp"]);

/** The environment for npm: Node 24 first on PATH, and none of the npm_* settings of an `npm test` around us. */
export function npmEnvironment(extraPath: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.toLowerCase().startsWith("npm_")) env[name] = value;
  env.PATH = [...extraPath, dirname(process.execPath), process.env.PATH ?? "/usr/bin:/bin"].join(":");
  return env;
}

/** `npm pack` of the working tree (in a copy); resolves with the tarball's path. */
export async function packVouch(): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "vouch-pack-"));
  const tree = join(work, "vouch");
  await cp(PROJECT_ROOT, tree, {
    recursive: true,
    filter: (source) => {
      const path = relative(PROJECT_ROOT, source);
      return !NOT_COPIED.has(path.split("/")[0] ?? "") && !source.endsWith(".tgz") && path !== "bench/results";
    },
  });
  // The build (prepack) needs the dev tools; the tarball takes none of them.
  await symlink(join(PROJECT_ROOT, "node_modules"), join(tree, "node_modules"));
  await runOrThrow("npm", ["pack", "--pack-destination", work], { cwd: tree, env: npmEnvironment(), timeoutMs: 300_000 });
  const tarball = (await readdir(work)).find((name) => name.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`npm pack made no tarball in ${work}`);
  return join(work, basename(tarball));
}

/**
 * `npm install -g --prefix PREFIX TARBALL`, preferring npm's cache (the dependencies come from it
 * when the machine ran `npm ci` before, so it also works offline). pkcs11js builds its addon.
 */
export async function installPacked(tarball: string, prefix: string): Promise<void> {
  await runOrThrow("npm", ["install", "--global", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--allow-scripts=pkcs11js", tarball], { env: npmEnvironment(), timeoutMs: 300_000 });
}
