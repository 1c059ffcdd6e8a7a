/**
 * The `vouch` command as an operator meets it: `vouch demo` on a fresh folder and again on the same
 * one, and `vouch serve` refusing bad configuration with one line naming the file, field and problem,
 * and `vouch check` refusing it with the very same line.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { openssl } from "../support/openssl.ts";
import { runVouch } from "../support/vouch-process.ts";

const MAIN = resolve(import.meta.dirname, "../../src/main.ts");

/** Runs `vouch demo` until it prints its instructions; returns them and a stop function. */
async function startDemo(dir: string, port: number): Promise<{ output: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [MAIN, "demo", "--dir", dir, "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`demo not ready after 30 s: ${output} ${stderr}`)), 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      output += `${line}\n`;
      if (line.startsWith("Stop with Ctrl-C")) {
        clearTimeout(timer);
        done();
      }
    });
    child.once("exit", (code) => fail(new Error(`demo exited with ${code}: ${stderr}`)));
  });
  return {
    output,
    stop: async () => {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGINT");
      await exited;
    },
  };
}

/** The `openssl ocsp …` command lines the demo printed, split into arguments. */
function printedCommands(output: string): string[][] {
  return output
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("openssl ocsp"))
    .map((line) => line.split(/\s+/).slice(1));
}

describe("vouch demo", () => {
  test("creates the demo PKI, serves it, and every printed openssl command works; a second run reuses the folder", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "vouch-demo-")), "demo");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const first = await startDemo(dir, port);
    try {
      const files = await readdir(dir);
      for (const name of ["root.pem", "ca.pem", "ocsp-signer.pem", "good.pem", "revoked.pem", "foreign.pem", "foreign-ca.pem", "index.txt", "ca.crl", "vouch.yaml", "status.db"]) {
        assert.ok(files.includes(name), `${name} is created`);
      }
      const commands = printedCommands(first.output);
      assert.equal(commands.length, 3, first.output);
      const verdicts = [];
      for (const args of commands) {
        const result = await openssl(args);
        assert.match(result.output, /Response verify OK/, args.join(" "));
        verdicts.push(/: (good|revoked|unknown)\n/.exec(result.stdout)?.[1]);
      }
      assert.deepEqual(verdicts, ["good", "revoked", "unknown"]);
    } finally {
      await first.stop();
    }
    const caBefore = await openssl(["x509", "-in", join(dir, "ca.pem"), "-noout", "-fingerprint"]);
    const second = await startDemo(dir, port);
    try {
      const caAfter = await openssl(["x509", "-in", join(dir, "ca.pem"), "-noout", "-fingerprint"]);
      assert.equal(caAfter.stdout, caBefore.stdout, "the second run reuses the PKI");
      const result = await openssl(printedCommands(second.output)[0]!);
      assert.match(result.stdout, /: good/);
      // The printed `vouch store revoke` changes the next answer within the poll interval (PT1S).
      const revoke = /npx vouch store revoke (.*)/.exec(second.output)?.[1]?.split(/\s+/);
      assert.ok(revoke !== undefined, second.output);
      const revoked = await runVouch(["store", "revoke", ...revoke]);
      assert.equal(revoked.code, 0, revoked.stderr);
      await waitUntil("the revocation to reach the demo", async () => /: revoked/.test((await openssl(printedCommands(second.output)[0]!)).stdout), 40, 250);
    } finally {
      await second.stop();
    }
  });
});

describe("vouch serve and vouch check refuse bad configuration", () => {
  let pki: Pki;
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), "vouch-config-"));
    pki = await createPki({ dir: join(folder, "pki") });
  });

  const valid = () => `responders:
  - name: test
    listen: { port: 0 }
    issuers:
      - certificate: ${pki.ca}
        signer: { certificate: ${pki.signer}, key: ${pki.signerKey} }
        sources: [{ type: index, file: ${pki.index} }]
`;

  const cases: [string, () => string, RegExp][] = [
    ["an unknown field", () => valid().replace("name: test", "name: test\n    colour: blue"), /vouch\.yaml: responders\[0\]: unknown field "colour"/],
    ["a misspelt required field", () => valid().replace("issuers:", "isuers:"), /vouch\.yaml: responders\[0\]: unknown field "isuers" \(did you mean "issuers"\?\)$/m],
    ["a PIN written in the file", () => valid().replace(`key: ${pki.signerKey}`, "pkcs11: { module: m.so, token: t, key: k, pin: \"1234\" }"), /signer\.pkcs11\.pin: the PIN is never written in the configuration: it must come from a file/],
    ["a port out of range", () => valid().replace("port: 0", "port: 70000"), /responders\[0\]\.listen\.port: .*65535/],
    ["a bad duration", () => valid().replace("name: test", "name: test\n    responseValidity: 1h"), /responders\[0\]\.responseValidity: "1h" is not a positive ISO 8601 duration/],
    ["a missing key file", () => valid().replace(pki.signerKey, "/nonexistent/signer.key"), /responders\[0\]\.issuers\[0\]\.signer\.key: \/nonexistent\/signer\.key: file not found/],
    ["a key that is not the signer's", () => valid().replace(pki.signerKey, pki.caKey), /signer\.key: .*does not belong to the signer certificate/],
    ["a signer the CA did not issue", () => valid().replace(pki.signer, pki.foreign).replace(pki.signerKey, join(pki.stateDir, "foreign.key")), /signer\.certificate: .*not issued by the CA/],
    ["a missing index file", () => valid().replace(pki.index, join(pki.dir, "missing.txt")), /sources\[0\]\.file: .*missing\.txt/],
    ["YAML that does not parse", () => "responders: [\n", /vouch\.yaml: line \d+, column \d+: not valid YAML/],
    ["forwarding by table without rows", () => valid().replace("name: test", "name: test\n    forwarding: { methods: [table] }"), /responders\[0\]\.forwarding\.table: the table method needs at least one row/],
    ["forwarding by fromcert without a certificate cache", () => valid().replace("name: test", "name: test\n    forwarding: { methods: [fromcert], allowedUrls: [\"http://ocsp.example/*\"] }"), /responders\[0\]\.forwarding\.methods: fromcert .*needs trust/],
    ["a file billing sink without a directory", () => valid().replace("name: test", "name: test\n    billing: { sink: file }"), /responders\[0\]\.billing\.directory: the file sink needs a directory/],
    ["signed requests without a trust store", () => valid().replace("name: test", "name: test\n    requestSignature: { required: true }"), /vouch\.yaml: trust: responder "test" authenticates certificates, which needs a trust store/],
    ["a bad DN pattern", () => `trust: { anchors: [${pki.root}] }\n${valid().replace("name: test", "name: test\n    authorization: { method: byname, names: [\"no equals sign\"] }")}`, /responders\[0\]\.authorization\.names\[0\]/],
    ["a cached responder without a response cache", () => valid().replace("name: test", "name: test\n    type: cached"), /responders\[0\]\.responseCache: responder type cached answers from a response cache/],
  ];
  for (const [name, text, expected] of cases) {
    test(name, async () => {
      const file = join(folder, "vouch.yaml");
      await writeFile(file, text());
      const [result, checked] = await Promise.all([runVouch(["serve", "--config", file], { timeoutMs: 60_000 }), runVouch(["check", "--config", file], { timeoutMs: 60_000 })]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trim().split("\n").length, 1, `one line, no stack trace: ${result.stderr}`);
      assert.deepEqual({ code: checked.code, stderr: checked.stderr, stdout: checked.stdout }, { code: 2, stderr: result.stderr, stdout: "" }, "vouch check says what serve says");
    });
  }

  test("a missing configuration file is named", async () => {
    for (const command of ["serve", "check"]) {
      const result = await runVouch([command, "--config", join(folder, "nope.yaml")]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /nope\.yaml: cannot read the configuration file \(ENOENT\)/);
    }
  });
});
