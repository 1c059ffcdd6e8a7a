/**
 * More OCSP clients nobody here wrote, each asking Vouch about a good, a revoked and a foreign
 * certificate (issued by a CA Vouch does not serve) and reporting the status in its own words:
 * - NSS: `ocspclnt -S` through the certificate's AIA (GET) and with `-l URL -t signer` (POST, with
 *   singleRequestExtensions), and `vfychain` with OCSP required (GET);
 * - Java's own PKIX revocation checker: a CertPathValidator with a PKIXRevocationChecker and the
 *   responder overridden, by GET (Java's choice for small requests) and by POST
 *   (`com.sun.security.ocsp.useget=false`);
 * - Bouncy Castle (bcpkix): its own request with a nonce by POST and without by GET, the response's
 *   signature, signer authorization and nonce checked.
 * Which method reached Vouch is read from its access log. The Java sources are compiled once, and
 * each JVM run makes several checks.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { freePort } from "../support/free-port.ts";
import { pkiIssuer, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

const exec = promisify(execFile);
const SUPPORT = resolve(import.meta.dirname, "../support");
/** Debian's Bouncy Castle jars (libbcprov-java, libbcpkix-java, libbcutil-java). */
const BOUNCY_CASTLE = ["bcprov", "bcpkix", "bcutil"].map((name) => `/usr/share/java/${name}.jar`).join(":");

let pki: Pki;
let vouch: VouchProcess;
let url: string;
let nssDb: string;
let classes: string;
let accessFile: string;

/** Runs a command; resolves with its output and exit code, never rejects on a non-zero exit. */
async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { timeout: 120_000 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

/** The methods of the access lines written since `from` lines, once `count` have arrived. */
async function methodsSince(from: number, count: number): Promise<string[]> {
  const lines = await waitUntil(`${count} access lines`, async () => {
    const all = (await readFile(accessFile, "utf8")).split("\n").filter((line) => line !== "");
    return all.length >= from + count ? all.slice(from) : undefined;
  });
  return lines.map((line) => (JSON.parse(line) as { method: string }).method);
}

async function accessLineCount(): Promise<number> {
  return (await readFile(accessFile, "utf8").catch(() => "")).split("\n").filter((line) => line !== "").length;
}

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), "vouch-more-clients-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  // The leaves' AIA names Vouch: NSS finds the responder there.
  pki = await createPki({ dir: join(dir, "pki"), ocspUrl: url });
  accessFile = join(dir, "access.jsonl");
  classes = join(dir, "classes");
  nssDb = join(dir, "nss");
  await Promise.all([mkdir(classes), mkdir(nssDb)]);
  const compiled = run("javac", ["-cp", BOUNCY_CASTLE, "-d", classes, join(SUPPORT, "PkixRevocationCheck.java"), join(SUPPORT, "BouncyCastleOcspCheck.java")]);
  // An NSS database trusting both roots; the CA, the responder and the leaves known without trust.
  const db = `sql:${nssDb}`;
  await run("certutil", ["-N", "-d", db, "--empty-password"]);
  for (const [nickname, file, trust] of [
    ["root", pki.root, "CT,C,C"],
    ["foreign-ca", pki.foreignCa, "CT,C,C"],
    ["ca", pki.ca, ",,"],
    ["signer", pki.signer, ",,"],
    ["good", pki.good, ",,"],
    ["revoked", pki.revoked, ",,"],
    ["foreign", pki.foreign, ",,"],
  ] as const) {
    const added = await run("certutil", ["-A", "-d", db, "-n", nickname, "-t", trust, "-a", "-i", file]);
    assert.equal(added.code, 0, added.output);
  }
  vouch = await startVouch(
    vouchConfig({
      log: { level: "info", access: { output: "file", file: accessFile } },
      responders: [testResponder("clients", [pkiIssuer(pki)], { listen: { host: "127.0.0.1", port } })],
    }),
    { args: ["--workers", "1"] },
  );
  const javac = await compiled;
  assert.equal(javac.code, 0, javac.output);
});

after(async () => {
  await vouch?.stop();
});

test("NSS ocspclnt: good, revoked and no status, by GET through the AIA and by POST to a given URL", async () => {
  const expected = {
    good: /^Check of certificate "good" succeeded\.$/m,
    revoked: /^Check of certificate "revoked" failed\.\s+Reason:\s+Peer's Certificate has been revoked\.$/m,
    foreign: /^Check of certificate "foreign" failed\.\s+Reason:\s+The OCSP server has no status for the certificate\.$/m,
  };
  const before = await accessLineCount();
  for (const [nickname, verdict] of Object.entries(expected)) {
    const result = await run("ocspclnt", ["-d", `sql:${nssDb}`, "-S", nickname]);
    assert.match(result.output, verdict, result.output);
  }
  // For the unknown answer NSS retries its GET by POST.
  assert.deepEqual(await methodsSince(before, 4), ["GET", "GET", "GET", "POST"]);
  const posted = await accessLineCount();
  for (const [nickname, verdict] of Object.entries(expected)) {
    const result = await run("ocspclnt", ["-d", `sql:${nssDb}`, "-S", nickname, "-l", url, "-t", "signer"]);
    assert.match(result.output, verdict, result.output);
  }
  assert.deepEqual(await methodsSince(posted, 3), ["POST", "POST", "POST"]);
});

test("NSS vfychain with OCSP required for the leaf: the good chain is good; revoked and foreign are refused (-8180)", async () => {
  const verify = (leaf: string, ...chain: string[]) =>
    run("vfychain", ["-d", `sql:${nssDb}`, "-pp", "-u", "1", "-g", "leaf", "-m", "ocsp", "-s", "failIfNoInfo", "-a", leaf, ...chain.flatMap((file) => ["-a", file])]);
  const before = await accessLineCount();
  const good = await verify(pki.good, pki.ca);
  assert.equal(good.code, 0, good.output);
  assert.match(good.output, /^Chain is good!$/m);
  for (const [leaf, chain] of [[pki.revoked, [pki.ca]], [pki.foreign, []]] as const) {
    const refused = await verify(leaf, ...chain);
    assert.notEqual(refused.code, 0, refused.output);
    // vfychain names an unknown status with the revoked code too.
    assert.match(refused.output, /Chain is bad![\s\S]*ERROR -8180: Peer's Certificate has been revoked\./);
  }
  assert.deepEqual((await methodsSince(before, 3)).slice(0, 3), ["GET", "GET", "GET"]);
});

test("Java's PKIX revocation checker: valid, revoked (keyCompromise), and a foreign answer refused, by GET and by POST", async () => {
  const checks = [`good=${pki.root}:${pki.good},${pki.ca}`, `revoked=${pki.root}:${pki.revoked},${pki.ca}`, `foreign=${pki.foreignCa}:${pki.foreign}`];
  for (const [useGet, method] of [["true", "GET"], ["false", "POST"]] as const) {
    const before = await accessLineCount();
    const result = await run("java", [`-Dcom.sun.security.ocsp.useget=${useGet}`, "-cp", classes, "PkixRevocationCheck", url, ...checks]);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(result.output.trim().split("\n"), [
      "good VALID",
      "revoked REVOKED KEY_COMPROMISE",
      // Vouch answers unknown for a CA it does not serve, signed by its own signer, which that CA never authorized.
      "foreign FAILED UNSPECIFIED Responder's certificate is not authorized to sign OCSP responses",
    ]);
    assert.deepEqual(await methodsSince(before, 3), [method, method, method]);
  }
});

test("Bouncy Castle: good, revoked (reason 1) and unknown, signatures verified, the nonce echoed by POST, by POST and by GET", async () => {
  const before = await accessLineCount();
  const result = await run("java", ["-cp", `${BOUNCY_CASTLE}:${classes}`, "BouncyCastleOcspCheck", url, `good=${pki.ca}:${pki.good}`, `revoked=${pki.ca}:${pki.revoked}`, `foreign=${pki.foreignCa}:${pki.foreign}`]);
  assert.equal(result.code, 0, result.output);
  assert.deepEqual(result.output.trim().split("\n"), [
    "good POST good signature=ok signer=authorized nonce=matched",
    "good GET good signature=ok signer=authorized nonce=none",
    "revoked POST revoked(1) signature=ok signer=authorized nonce=matched",
    "revoked GET revoked(1) signature=ok signer=authorized nonce=none",
    // The foreign CA never designated Vouch's signer: a careful client does not believe the answer.
    "foreign POST unknown signature=ok signer=not-authorized nonce=matched",
    "foreign GET unknown signature=ok signer=not-authorized nonce=none",
  ]);
  assert.deepEqual(await methodsSince(before, 6), ["POST", "GET", "POST", "GET", "POST", "GET"]);
});
