/**
 * The deployment files of deploy/ as their tools read them. The systemd unit passes `systemd-analyze
 * verify` without a single warning (it exits 0 even on unknown keys, so its output is what counts)
 * and `systemd-analyze security` rates it; the Kubernetes example's configuration is valid for
 * Vouch, and its manifests agree with it and with each other (probes on the configured ports, every
 * mounted file and secret key present, the image's user). The container image itself is built and
 * run by test/image/container-image.ts (`npm run test:image`).
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/load.ts";
import { runCommand } from "../support/command.ts";
import { PROJECT_ROOT } from "../support/packed-vouch.ts";

const UNIT = join(PROJECT_ROOT, "deploy/systemd/vouch.service");
const KUBERNETES = join(PROJECT_ROOT, "deploy/kubernetes");

const systemdAnalyze = (args: readonly string[]) => runCommand("systemd-analyze", args);

/** The unit with its commands pointing at this checkout's bin/vouch.js: verify checks that they exist. */
async function unitHere(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "vouch-unit-")), "vouch.service");
  await writeFile(file, text.replaceAll("/usr/local/bin/vouch ", `${join(PROJECT_ROOT, "bin/vouch.js")} `));
  return file;
}

describe("deploy/systemd/vouch.service", () => {
  test("systemd-analyze verify accepts it without a warning", async () => {
    const text = await readFile(UNIT, "utf8");
    const verified = await systemdAnalyze(["verify", "--man=no", await unitHere(text)]);
    assert.deepEqual(verified, { code: 0, stdout: "", stderr: "" });
    // The same check on a unit with a misspelt setting: what this test would see.
    const misspelt = await systemdAnalyze(["verify", "--man=no", await unitHere(text.replace("ProtectSystem=strict", "ProtectSystem=strickt"))]);
    assert.match(misspelt.stderr, /protect system value/i);
  });

  test("names what the install guide promises: user, reload by SIGHUP, state and runtime directories, hardening", async () => {
    const settings = new Map<string, string[]>();
    for (const line of (await readFile(UNIT, "utf8")).split("\n")) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (match !== null) settings.set(match[1]!, [...(settings.get(match[1]!) ?? []), match[2]!]);
    }
    const one = (name: string) => settings.get(name)?.join(" ");
    assert.equal(one("User"), "vouch");
    assert.match(one("ExecStart") ?? "", /serve --config \/etc\/vouch\/vouch\.yaml --pid-file \/run\/vouch\/vouch\.pid$/);
    assert.match(one("ExecReload") ?? "", /reload --pid-file \/run\/vouch\/vouch\.pid$/);
    assert.equal(one("RuntimeDirectory"), "vouch");
    assert.equal(one("StateDirectory"), "vouch");
    for (const [name, value] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["PrivateTmp", "yes"],
      ["ProtectHome", "yes"],
    ]) {
      assert.equal(one(name!), value, name);
    }
  });

  test("systemd-analyze security rates its exposure low", async () => {
    const rated = await systemdAnalyze(["security", "--offline=yes", "--no-pager", await unitHere(await readFile(UNIT, "utf8"))]);
    const exposure = /Overall exposure level for vouch\.service: (\d+\.\d+)/.exec(rated.stdout + rated.stderr);
    assert.ok(exposure !== null, rated.stdout + rated.stderr);
    // 1.9 with systemd 252 (Debian 12); 10 is a unit without any hardening.
    assert.ok(Number(exposure[1]) <= 2.5, `exposure ${exposure[1]}`);
  });
});

describe("deploy/kubernetes", () => {
  interface Manifest {
    kind: string;
    metadata: { name: string };
    [field: string]: unknown;
  }
  const load = async (): Promise<Manifest[]> => {
    const manifests: Manifest[] = [];
    for (const file of (await readdir(KUBERNETES)).filter((name) => name.endsWith(".yaml") && name !== "kustomization.yaml")) {
      for (const document of parseAllDocuments(await readFile(join(KUBERNETES, file), "utf8"))) {
        assert.deepEqual(document.errors, [], file);
        manifests.push(document.toJS() as Manifest);
      }
    }
    return manifests;
  };
  const named = <T>(manifests: Manifest[], kind: string, name?: string) => manifests.find((manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name)) as T | undefined;

  test("the ConfigMap's configuration is valid, and the Deployment, Secret and Services agree with it", async () => {
    const manifests = await load();
    const configMap = named<{ data: Record<string, string> }>(manifests, "ConfigMap", "vouch-config");
    const config = parseConfig(configMap!.data["vouch.yaml"]!, "/etc/vouch/vouch.yaml");
    interface Container {
      args: string[];
      env: { name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
      ports: { name: string; containerPort: number }[];
      readinessProbe: { httpGet: { path: string; port: string } };
      livenessProbe: { httpGet: { path: string; port: string } };
      securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
      volumeMounts: { name: string; mountPath: string; subPath?: string }[];
    }
    const deployment = named<{
      spec: {
        replicas: number;
        template: {
          spec: {
            securityContext: { runAsNonRoot: boolean; runAsUser: number };
            containers: Container[];
            volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string; items: { key: string; path: string }[] } }[];
          };
        };
      };
    }>(manifests, "Deployment", "vouch")!;
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    const port = (name: string) => container.ports.find((candidate) => candidate.name === name)?.containerPort;
    assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "admin" });
    assert.equal(port("admin"), config.admin?.listen.port, "readiness on the admin listener");
    assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "ocsp" });
    assert.equal(port("ocsp"), config.responders[0]!.listen.port);
    assert.equal(container.args[container.args.indexOf("--config") + 1], "/etc/vouch/vouch.yaml");

    // Non-root as the image's user, on a read-only root file system.
    const containerfile = await readFile(join(PROJECT_ROOT, "deploy/container/Containerfile"), "utf8");
    assert.equal(`USER ${pod.securityContext.runAsUser}:${pod.securityContext.runAsUser}`, /^USER .*$/m.exec(containerfile)?.[0]);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);

    // Every file the configuration names is mounted from the Secret, whose keys exist.
    const secret = named<{ metadata: { name: string }; stringData: Record<string, string> }>(manifests, "Secret")!;
    const keysVolume = pod.volumes.find((volume) => volume.secret?.secretName === secret.metadata.name)!;
    const keysPath = container.volumeMounts.find((mount) => mount.name === keysVolume.name)!.mountPath;
    const mounted = new Set(keysVolume.secret!.items.map((item) => `${keysPath}/${item.path}`));
    for (const item of keysVolume.secret!.items) assert.ok(item.key in secret.stringData, `Secret key ${item.key}`);
    const issuer = config.responders[0]!.issuers[0]!;
    for (const file of [issuer.certificate, issuer.signer!.certificate, issuer.signer!.key]) assert.ok(mounted.has(file!), `${file} mounted`);
    for (const variable of container.env) if (variable.valueFrom !== undefined) assert.ok(variable.valueFrom.secretKeyRef.key in secret.stringData, variable.name);
    const configVolume = pod.volumes.find((volume) => volume.configMap?.name === "vouch-config")!;
    assert.ok(container.volumeMounts.some((mount) => mount.name === configVolume.name && mount.mountPath === "/etc/vouch/vouch.yaml" && mount.subPath === "vouch.yaml"));

    // PostgreSQL and Redis are outside services, reached by the names the configuration uses.
    const hosts = [issuer.sources[0]!.type === "sql" ? issuer.sources[0]!.database : "", config.responders[0]!.responseCache?.redis?.url ?? ""].map((url) => new URL(url).hostname);
    for (const host of hosts) assert.equal(named<{ spec: { type: string } }>(manifests, "Service", host)?.spec.type, "ExternalName", host);
  });

  test("the kustomization lists every manifest", async () => {
    const kustomization = parseAllDocuments(await readFile(join(KUBERNETES, "kustomization.yaml"), "utf8"))[0]!.toJS() as { resources: string[] };
    const files = (await readdir(KUBERNETES)).filter((name) => name.endsWith(".yaml") && name !== "kustomization.yaml");
    assert.deepEqual([...kustomization.resources].sort(), files.sort());
  });
});
