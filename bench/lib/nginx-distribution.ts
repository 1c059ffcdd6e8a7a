/**
 * A CRL distribution point served by nginx (Debian's package), as CAs publish CRLs: static files,
 * sent with sendfile. Beside bench/source-ready.ts's own node:http server, whose streaming of a
 * 45 MB CRL takes 100-200 ms of CPU from the same two cores as the Vouch it feeds; nginx's takes
 * almost none, so the comparison with a file shows Vouch's own cost of the transfer.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { access, link, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { accepts } from "../../test/support/free-port.ts";

const NGINX = "/usr/sbin/nginx";

export interface NginxDistribution {
  /** Where the CRL is published. */
  readonly url: string;
  /** Publishes `file` (on the work folder's file system) as the CRL, at once: linked beside it, renamed over it, as a CA's publisher does. */
  serve(file: string): Promise<void>;
  close(): Promise<void>;
}

/** nginx serving one CRL on 127.0.0.1:`port` from `workDir`, or `undefined` when nginx is not installed. */
export async function startNginxDistribution(port: number, workDir: string): Promise<NginxDistribution | undefined> {
  try {
    await access(NGINX);
  } catch {
    return undefined;
  }
  const root = join(workDir, "www");
  await mkdir(root, { recursive: true });
  const config = join(workDir, "nginx.conf");
  await writeFile(
    config,
    `worker_processes 1;
daemon off;
pid ${join(workDir, "nginx.pid")};
error_log ${join(workDir, "error.log")};
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  etag on;
  types { application/pkix-crl crl der; }
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`,
  );
  const nginx: ChildProcess = spawn(NGINX, ["-c", config, "-p", workDir], { stdio: "ignore" });
  for (let tries = 0; !(await accepts(port)); tries++) {
    if (nginx.exitCode !== null || tries > 100) throw new Error(`nginx did not start (see ${join(workDir, "error.log")})`);
    await new Promise((done) => setTimeout(done, 50));
  }
  const published = join(root, "ca.crl");
  return {
    url: `http://127.0.0.1:${port}/ca.crl`,
    async serve(file) {
      await rm(`${published}.new`, { force: true });
      await link(file, `${published}.new`);
      await rename(`${published}.new`, published);
    },
    close: async () => {
      nginx.kill("SIGTERM");
      if (nginx.exitCode === null) await new Promise((done) => nginx.once("exit", done));
    },
  };
}
