/**
 * The container image of deploy/container, built and run here with podman. Run by `npm run
 * test:image` (and .ci/run), not by `npm test`: its prerequisites (scripts/image-test-prerequisites.sh)
 * install podman and make a Debian base image with debootstrap the first time, since no image
 * registry can be reached; with that base kept, a run takes about 35 s. The image starts as a
 * non-root user on a read-only root file system with its configuration, keys and data mounted
 * read-only, answers /healthz (its HEALTHCHECK passes) and `openssl ocsp` on the published port,
 * bills into its state volume, and stops cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, type Pki } from "../../src/pki/openssl-pki.ts";
import { waitUntil } from "../../src/status/test-support/wait-until.ts";
import { freePort } from "../support/free-port.ts";
import { openssl } from "../support/openssl.ts";
import { runCommand, runOrThrow } from "../support/command.ts";
import { packVouch, PROJECT_ROOT } from "../support/packed-vouch.ts";

const IMAGE = "localhost/vouch:image-test";
const BASE_IMAGE = "localhost/debian-base:bookworm";
/** The image's user (deploy/container/Containerfile). */
const VOUCH_UID = 10001;

/** podman with this test's containers.conf (in `env`); never rejects. */
const podman = (args: readonly string[], env: NodeJS.ProcessEnv) => runCommand("podman", args, { env });

describe("the container image", () => {
  let env: NodeJS.ProcessEnv;
  let folder: string;
  let pki: Pki;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), "vouch-image-"));
    // Here crun and runc fail on setrlimit with podman's default ulimits; runc with none works.
    const containersConf = join(folder, "containers.conf");
    await writeFile(containersConf, '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n');
    env = { ...process.env, CONTAINERS_CONF: containersConf };
    const [tarball, made] = await Promise.all([packVouch(), createPki({ dir: join(folder, "config", "pki") })]);
    pki = made;
    await runOrThrow("bash", [join(PROJECT_ROOT, "deploy/container/build.sh"), "--package", tarball, IMAGE], { env: { ...env, BASE_IMAGE }, timeoutMs: 600_000 });
  });
  after(async () => {
    await podman(["rmi", "--force", IMAGE], env);
    await rm(folder, { recursive: true, force: true });
  });

  test("runs read-only as a non-root user, answers /healthz and openssl ocsp, bills into its volume, stops cleanly", async () => {
    const config = join(folder, "config");
    const state = join(folder, "state");
    await mkdir(state);
    const inside = (file: string) => `/etc/vouch/pki/${basename(file)}`;
    await writeFile(
      join(config, "vouch.yaml"),
      `log: { level: info }
responders:
  - name: image
    listen: { host: 0.0.0.0, port: 8080 }
    issuers:
      - certificate: ${inside(pki.ca)}
        signer: { certificate: ${inside(pki.signer)}, key: ${inside(pki.signerKey)} }
        sources: [{ type: index, file: ${inside(pki.index)} }]
    billing: { sink: file, directory: /var/lib/vouch/billing }
`,
    );
    // As an operator gives them to the service's user: readable by it alone (the keys are 0600).
    for (const path of [config, state]) await runOrThrow("chown", ["-R", `${VOUCH_UID}:${VOUCH_UID}`, path]);
    const port = await freePort();
    const name = `vouch-image-test-${process.pid}`;
    const started = await podman(
      ["run", "--detach", "--name", name, "--read-only", "--volume", `${config}:/etc/vouch:ro`, "--volume", `${state}:/var/lib/vouch`, "--publish", `127.0.0.1:${port}:8080`, IMAGE],
      env,
    );
    assert.equal(started.code, 0, started.stderr);
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitUntil("/healthz on the published port", async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 600, 100);
      // /healthz answers from the first worker that listens; "ready" comes once every worker does.
      await waitUntil("the ready line", async () => /"msg":"ready"/.test((await podman(["logs", name], env)).stdout), 300, 100);

      const user = await podman(["exec", name, "id", "-u"], env);
      assert.equal(user.stdout.trim(), String(VOUCH_UID), "not root");
      const write = await podman(["exec", name, "sh", "-c", "touch /opt/vouch/x"], env);
      assert.notEqual(write.code, 0, "the root file system is read-only");
      const health = await podman(["healthcheck", "run", name], env);
      assert.equal(health.code, 0, `HEALTHCHECK: ${health.stdout} ${health.stderr}`);

      for (const [certificate, status] of [
        [pki.good, "good"],
        [pki.revoked, "revoked"],
      ] as const) {
        const answer = await openssl(["ocsp", "-url", `${url}/`, "-issuer", pki.ca, "-cert", certificate, "-CAfile", pki.root, "-verify_other", pki.ca]);
        assert.equal(answer.code, 0, answer.output);
        assert.match(answer.output, /Response verify OK/);
        assert.match(answer.stdout, new RegExp(`: ${status}\\n`));
      }
      const billing = join(state, "billing");
      await waitUntil("a billing file", async () => (await readdir(billing).catch(() => [])).length > 0, 100, 100);
      const records = (await Promise.all((await readdir(billing)).map((file) => readFile(join(billing, file), "utf8")))).join("").trim().split("\n");
      assert.equal(records.length, 2, "one billing record per request, in the state volume");

      const stopped = await podman(["stop", "--time", "30", name], env);
      assert.equal(stopped.code, 0, stopped.stderr);
      const exitCode = await podman(["inspect", name, "--format", "{{.State.ExitCode}}"], env);
      assert.equal(exitCode.stdout.trim(), "0", "SIGTERM: every worker finished, exit 0");
      assert.match((await podman(["logs", name], env)).stdout, /"msg":"stopping: every worker finishes its requests in flight"/);
    } finally {
      await podman(["rm", "--force", name], env);
    }
  });
});
