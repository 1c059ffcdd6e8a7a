/**
 * The production install path of README "Installing": `npm pack` makes a package with the compiled
 * code and only the runtime dependencies, `npm install -g` of it into a fresh prefix puts `vouch` on
 * the PATH, and the installed command prints its version and checks a generated configuration. Run
 * by a Node older than 24, it says in one line which Node it needs.
 */
import assert from "node:assert/strict";
import { access, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { runCommand, runOrThrow } from "../support/command.ts";
import { installPacked, npmEnvironment, packVouch, PROJECT_ROOT } from "../support/packed-vouch.ts";

describe("npm pack, npm install -g, and the installed vouch", () => {
  let tarball: string;
  let prefix: string;
  let pki: Pki;
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), "vouch-install-"));
    [tarball, pki] = await Promise.all([packVouch(), createPki({ dir: join(folder, "pki") })]);
    prefix = join(folder, "prefix");
    await installPacked(tarball, prefix);
  });

  test("the package holds the compiled code, the docs and the deployment files, and no sources or tests", async () => {
    const files = (await runOrThrow("tar", ["-tzf", tarball])).stdout.split("\n").filter((line) => line !== "");
    for (const expected of ["package/bin/vouch.js", "package/dist/main.js", "package/dist/cli/serve-worker.js", "package/README.md", "package/docs/install.md", "package/deploy/systemd/vouch.service"]) {
      assert.ok(files.includes(expected), `${expected} in the package`);
    }
    assert.deepEqual(
      files.filter((file) => /\.ts$|\.map$|^package\/(src|test|bench|scripts)\//.test(file)),
      [],
      "no TypeScript sources, source maps, tests or bench",
    );
  });

  test("installs only the runtime dependencies, vouch on the prefix's PATH", async () => {
    const { dependencies, devDependencies } = JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as Record<string, Record<string, string>>;
    const installed = new Set(await readdir(join(prefix, "lib/node_modules/vouch/node_modules")));
    for (const name of Object.keys(dependencies ?? {})) assert.ok(installed.has(name), `${name} installed`);
    for (const name of Object.keys(devDependencies ?? {})) assert.ok(!installed.has(name.split("/")[0]!) || name.startsWith("@types"), `devDependency ${name} not installed`);
    assert.ok(!installed.has("typescript") && !installed.has("eslint") && !installed.has("node"));
    await access(join(prefix, "lib/node_modules/vouch/node_modules/pkcs11js/build/Release/pkcs11.node"));
  });

  test("the installed vouch --version and vouch check run from the PATH", async () => {
    const env = npmEnvironment([join(prefix, "bin")]);
    const { version } = JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string };
    const shown = await runCommand("vouch", ["--version"], { env });
    assert.deepEqual(shown, { code: 0, stdout: `vouch ${version} (Node.js ${process.versions.node}, OpenSSL ${process.versions.openssl})\n`, stderr: "" });

    const good = join(folder, "vouch.yaml");
    await writeFile(
      good,
      `responders:
  - name: installed
    listen: { host: 127.0.0.1, port: 8080 }
    issuers:
      - certificate: ${pki.ca}
        signer: { certificate: ${pki.signer}, key: ${pki.signerKey} }
        sources: [{ type: index, file: ${pki.index} }, { type: crl, files: [${pki.crl}] }]
`,
    );
    const checked = await runCommand("vouch", ["check", "--config", good, "--workers", "2"], { env });
    assert.deepEqual(checked, { code: 0, stdout: `${good}: valid: 1 responder, 1 issuer, on http://127.0.0.1:8080 (2 worker processes)\n`, stderr: "" });

    const broken = join(folder, "broken.yaml");
    await writeFile(broken, (await readFile(good, "utf8")).replace(pki.signerKey, pki.caKey));
    const refused = await runCommand("vouch", ["check", "--config", broken], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^vouch: .*broken\.yaml: responders\[0\]\.issuers\[0\]\.signer\.key: .*does not belong to the signer certificate\n$/);
  });

  test("under an older Node, the installed vouch says in one line which Node it needs", async (context) => {
    const older = await runCommand("/usr/bin/node", ["-p", "process.versions.node"], { env: process.env });
    if (older.code !== 0 || Number(older.stdout.split(".")[0]) >= 24) {
      context.skip("no Node older than 24 at /usr/bin/node on this machine");
      return;
    }
    const result = await runCommand(join(prefix, "bin/vouch"), ["check", "--config", "/nonexistent.yaml"], { env: { ...process.env, PATH: "/usr/bin:/bin" } });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, new RegExp(`^vouch: needs Node\\.js 24 or later, but /usr/bin/node is Node\\.js ${older.stdout.trim().replaceAll(".", "\\.")} \\(.*\\)\\n$`));
  });
});
