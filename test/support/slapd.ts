/**
 * A private OpenLDAP `slapd` (Debian's package) for tests: a throwaway slapd.conf and MDB database in
 * a temp folder, loopback on a free port, the suffix `o=Vouch Test` writable by its rootdn and
 * readable by anyone (CRL distribution points are read anonymously). Stopped by its process id.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attribute, Client } from "ldapts";
import { accepts, freePort } from "./free-port.ts";

export const SUFFIX = "o=Vouch Test";
const ROOT_DN = `cn=admin,${SUFFIX}`;
const ROOT_PASSWORD = "throwaway";

export interface Slapd {
  /** ldap://127.0.0.1:PORT */
  readonly url: string;
  /** Adds or replaces the `cRLDistributionPoint` entry `cn=NAME,o=Vouch Test` with `crl` (DER) in certificateRevocationList;binary; returns its DN. */
  publishCrl(name: string, crl: Buffer): Promise<string>;
  stop(): Promise<void>;
}

export async function startSlapd(): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), "vouch-slapd-"));
  await mkdir(join(dir, "data"));
  const port = await freePort();
  const config = join(dir, "slapd.conf");
  await writeFile(
    config,
    [
      "include /etc/ldap/schema/core.schema",
      `pidfile ${join(dir, "slapd.pid")}`,
      "modulepath /usr/lib/ldap",
      "moduleload back_mdb",
      "database mdb",
      "maxsize 1073741824",
      `suffix "${SUFFIX}"`,
      `rootdn "${ROOT_DN}"`,
      `rootpw ${ROOT_PASSWORD}`,
      `directory ${join(dir, "data")}`,
      "access to * by * read",
      "",
    ].join("\n"),
  );
  const url = `ldap://127.0.0.1:${port}`;
  // -d keeps slapd in the foreground, so that this process owns it and stops it by its id.
  const child: ChildProcess = spawn("/usr/sbin/slapd", ["-f", config, "-h", `${url}/`, "-d", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`slapd did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const admin = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url, timeout: 10_000 });
    try {
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      return await work(client);
    } finally {
      await client.unbind();
    }
  };
  await admin((client) => client.add(SUFFIX, { objectClass: "organization", o: "Vouch Test" }));
  return {
    url,
    async publishCrl(name, crl) {
      const dn = `cn=${name},${SUFFIX}`;
      await admin(async (client) => {
        await client.del(dn).catch(() => {});
        await client.add(dn, [
          new Attribute({ type: "objectClass", values: ["cRLDistributionPoint"] }),
          new Attribute({ type: "cn", values: [name] }),
          new Attribute({ type: "certificateRevocationList;binary", values: [crl] }),
        ]);
      });
      return dn;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
