/**
 * bench/source-ready.ts [ENTRIES=1000000] - time to ready and memory with a big revocation data set,
 * Vouch against OpenSSL's own responder on the same data (issue #5's benchmark).
 *
 * One PKI (src/pki/openssl-pki.ts) and one CA database of ENTRIES revoked certificates in the format
 * `openssl ca` writes; the CRL of the same entries is made by `openssl ca -gencrl` itself. Each server is
 * started fresh and asked, every 20 ms, about the last revoked serial (POST, no nonce) until it answers
 * `revoked`: the time from spawn to that answer is "ready". Memory is the server's VmRSS at ready and
 * its peak (VmHWM), from /proc; each figure is the median of READY_ROUNDS (default 3) rounds that
 * interleave the scenarios. Scenarios (SCENARIOS, in this order by default):
 *   openssl-index   openssl ocsp -index index.txt -port P -rsigner … -rkey … -CA ca.pem
 *   vouch-index     vouch serve, an `index` source on the same index.txt
 *   vouch-crl       vouch serve, a `crl` source on the CRL of the same entries
 *   vouch-crl-http  vouch serve, a `crl` source fetching that CRL over HTTP (node:http in this process,
 *                   a fresh state folder each round, so every start fetches it whole)
 *   vouch-crl-nginx the same, the CRL served by nginx (bench/lib/nginx-distribution.ts: sendfile, as
 *                   CAs serve CRLs; its CPU is not taken from Vouch's cores as node:http's streaming
 *                   is); skipped without Debian's nginx
 *   vouch-sqlite / vouch-postgres   vouch serve, an `sql` source (when `vouch store` exists: the data is
 *                   imported once with `vouch store import-index`)
 * Then RELOAD_SECONDS (default 10; 0 skips) of wrk load on vouch-index, in RELOAD_ROUNDS (default 2)
 * rounds of three runs: once quiet, once while the index file is replaced every second (REWRITE=changed,
 * the default: one entry flips each time, and the time until each change shows is reported; or
 * REWRITE=same: the same content; the poller asks every POLL_MS, default 20), and a control run
 * writing the same way to a file Vouch does not read, and polling for CONTROL_POLL_MS (default 300)
 * after each write; median p99 of each kind (see reloadLatency). Then SWAP_SECONDS (default 10; 0
 * skips) of wrk load on vouch-crl-http fetching every second, in RELOAD_ROUNDS rounds of two runs: a
 * control (each fetch answered 304) and one during which a new CRL of the same ENTRIES (the next
 * CRL number, made beforehand by `openssl ca -gencrl`) is published, fetched and swapped in (see
 * crlSwapLatency; SWAP_SERVER=nginx has nginx serve it). Needs `npm run build` (Vouch
 * runs from dist/), wrk, and Node 24 (`node_modules/.bin` first on PATH). Data in $BENCH_DATA/source-ready.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createReadStream } from "node:fs";
import { access, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { performance } from "node:perf_hooks";
import { decodeOcspResponse } from "../src/ocsp/decode-response.ts";
import { createPki, pkiExists, pkiPaths } from "../src/pki/openssl-pki.ts";
import { startNginxDistribution } from "./lib/nginx-distribution.ts";
import { accepts } from "../test/support/free-port.ts";

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, "..");
const ENTRIES = Number(process.argv[2] ?? 1_000_000);
const DATA = join(process.env.BENCH_DATA ?? "/tmp/vouch-bench", "source-ready");
const SCENARIOS = (process.env.SCENARIOS ?? "openssl-index vouch-index vouch-crl vouch-crl-http vouch-sqlite vouch-postgres").split(/\s+/).filter(Boolean);
const RELOAD_SECONDS = Number(process.env.RELOAD_SECONDS ?? 10);
const SWAP_SECONDS = Number(process.env.SWAP_SECONDS ?? 10);
const READY_ROUNDS = Number(process.env.READY_ROUNDS ?? 3);
/** Who serves the CRL the swap fetches: the bench's own node:http server (default), or nginx (SWAP_SERVER=nginx). */
const SWAP_SERVER = process.env.SWAP_SERVER === "nginx" ? "nginx" : "node";
const RELOAD_ROUNDS = Number(process.env.RELOAD_ROUNDS ?? 2);
const POLL_MS = Number(process.env.POLL_MS ?? 20);
const CONTROL_POLL_MS = Number(process.env.CONTROL_POLL_MS ?? 300);
const REWRITE = process.env.REWRITE === "same" ? "same" : "changed";
const PG = process.env.BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const PORT = Number(process.env.READY_PORT ?? 18090);
const ENV = { ...process.env, OPENSSL_CONF: "/dev/null" };

/** The serial of entry i: 16 octets, never sign-padded. */
const serialOf = (i: number): string => (0x40n * 2n ** 120n + BigInt(i) * 2654435761n + 0x1000n).toString(16).toUpperCase();

/** The middle value (the mean of the middle two for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1 ? (sorted[Math.floor(middle)] ?? Number.NaN) : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

const log = (message: string) => process.stderr.write(`[source-ready ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function prepare() {
  await mkdir(DATA, { recursive: true });
  const pkiDir = join(DATA, "pki");
  const pki = (await pkiExists(pkiDir)) ? pkiPaths(pkiDir) : await createPki({ dir: pkiDir });
  const index = join(DATA, `index-${ENTRIES}.txt`);
  if (!(await exists(index))) {
    log(`writing ${ENTRIES} revoked entries`);
    const lines: string[] = [];
    for (let i = 0; i < ENTRIES; i++) lines.push(`R\t291231235959Z\t261124085940Z${i % 4 === 0 ? "" : ",keyCompromise"}\t${serialOf(i)}\tunknown\t/C=SE/O=Vouch Bench/CN=host-${i}`);
    await writeFile(index, `${lines.join("\n")}\n`);
  }
  const crl = join(DATA, `crl-${ENTRIES}.der`);
  // openssl ca reads its database from the config's `database`: point a copy of the config at ours.
  const gencrl = async (out: string) => {
    const config = (await readFile(pki.opensslConfig, "utf8")).replace(/^database\s*=.*$/m, `database = ${index}`);
    const configFile = join(DATA, "gencrl.cnf");
    await writeFile(configFile, config);
    await writeFile(`${index}.attr`, "unique_subject = no\n");
    const pem = join(DATA, "crl.pem");
    await run("openssl", ["ca", "-config", configFile, "-gencrl", "-crldays", "30", "-out", pem, "-batch"], { env: ENV, maxBuffer: 1 << 26 });
    await run("openssl", ["crl", "-in", pem, "-outform", "DER", "-out", out], { env: ENV });
  };
  // Only the crl scenarios need it, and making it takes minutes.
  if ((SCENARIOS.some((scenario) => scenario.startsWith("vouch-crl")) || SWAP_SECONDS > 0) && !(await exists(crl))) {
    log("openssl ca -gencrl over the same entries (takes a while)");
    await gencrl(crl);
  }
  const request = join(DATA, "request.der");
  if (!(await exists(request))) {
    await run("openssl", ["ocsp", "-issuer", pki.ca, "-serial", `0x${serialOf(ENTRIES - 1)}`, "-no_nonce", "-reqout", request], { env: ENV });
  }
  return { pki, index, crl, request, gencrl };
}

interface Measured {
  readonly scenario: string;
  readonly readyMs: number;
  readonly rssMiB: number;
  readonly peakMiB: number;
}

function procStatus(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  return readFile(`/proc/${pid}/status`, "utf8").then((text) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) / 1024);
}

/**
 * Throws when something already listens on PORT: it would answer in the server's place (a server
 * left over from an interrupted run once did, and every figure measured it).
 */
async function requirePortFree(): Promise<void> {
  if (await accepts(PORT)) throw new Error(`port ${PORT} is already in use (a server left over from an interrupted run? set READY_PORT)`);
}

/** Starts `command`, polls until the revoked answer comes back, measures, stops it. */
async function measure(scenario: string, command: string, args: readonly string[], requestDer: Buffer): Promise<Measured> {
  await requirePortFree();
  const started = performance.now();
  const child: ChildProcess = spawn(command, args, { env: ENV, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${scenario} exited: ${stderr}`);
      if (performance.now() - started > 300_000) throw new Error(`${scenario} not ready after 300 s`);
      try {
        // A long timeout: `openssl ocsp` listens before it loads the index, and answers a connection made
        // meanwhile once loaded; one aborted before that (an earlier 2 s timeout) left it spinning at 100% CPU.
        const response = await fetch(`http://127.0.0.1:${PORT}/`, { method: "POST", body: requestDer, headers: { "content-type": "application/ocsp-request" }, signal: AbortSignal.timeout(60_000) });
        const decoded = decodeOcspResponse(Buffer.from(await response.arrayBuffer()));
        if (decoded.status === "successful" && decoded.basic.responses[0]?.status.kind === "revoked") break;
      } catch {
        // not listening yet, or not answering revoked yet
      }
      await new Promise((done) => setTimeout(done, 20));
    }
    const readyMs = performance.now() - started;
    const rssMiB = await procStatus(child.pid!, "VmRSS");
    const peakMiB = await procStatus(child.pid!, "VmHWM");
    return { scenario, readyMs, rssMiB, peakMiB };
  } finally {
    child.kill("SIGKILL");
    await new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once("exit", done)));
  }
}

function vouchConfig(file: string, pki: ReturnType<typeof pkiPaths>, source: string): Promise<void> {
  return writeFile(
    file,
    `log: { level: warn }
responders:
  - name: bench
    listen: { host: 127.0.0.1, port: ${PORT} }
    reuseFor: PT0S   # every request signed live, as the load tables say (issue 14 made reuse the default)
    issuers:
      - certificate: ${pki.ca}
        signer: { certificate: ${pki.signer}, key: ${pki.signerKey} }
        sources: [${source}]
`,
  );
}

async function vouchStoreExists(): Promise<boolean> {
  return exists(join(REPO, "dist/cli/store.js"));
}

async function main() {
  if (!(await exists(join(REPO, "dist/main.js")))) throw new Error("run `npm run build` first (Vouch runs from dist/)");
  const { pki, index, crl, request, gencrl } = await prepare();
  // The CA's distribution point for the vouch-crl-http scenario and the swap: the CRL file served as it is.
  const distribution = await serveCrls();
  distribution.serve(crl);
  const nginx = SCENARIOS.includes("vouch-crl-nginx") || SWAP_SERVER === "nginx" ? await startNginxDistribution(PORT + 3, join(DATA, "nginx")) : undefined;
  await nginx?.serve(crl);
  const requestDer = await readFile(request);
  // One process, the one measured (the default is a supervisor with a worker per CPU).
  const vouch = [join(REPO, "bin/vouch.js"), "serve", "--workers", "1", "--config"];
  const runs = new Map<string, Measured[]>();
  const results: Measured[] = [];
  // Rounds interleave the scenarios, so that a burst of load from elsewhere on the machine does not land on one only.
  for (let round = 1; round <= READY_ROUNDS; round++) for (const scenario of SCENARIOS) {
    const config = join(DATA, `${scenario}.yaml`);
    switch (scenario) {
      case "openssl-index":
        results.push(await measure(scenario, "openssl", ["ocsp", "-index", index, "-port", String(PORT), "-rsigner", pki.signer, "-rkey", pki.signerKey, "-CA", pki.ca, "-nmin", "60"], requestDer));
        break;
      case "vouch-index":
        await vouchConfig(config, pki, `{ type: index, file: ${index}, pollInterval: PT1H }`);
        results.push(await measure(scenario, process.execPath, [...vouch, config], requestDer));
        break;
      case "vouch-crl":
        await vouchConfig(config, pki, `{ type: crl, files: [${crl}], pollInterval: PT1H }`);
        results.push(await measure(scenario, process.execPath, [...vouch, config], requestDer));
        break;
      case "vouch-crl-http":
      case "vouch-crl-nginx": {
        const url = scenario === "vouch-crl-http" ? distribution.url : nginx?.url;
        if (url === undefined) {
          log(`${scenario}: skipped (no /usr/sbin/nginx: apt-get install nginx)`);
          break;
        }
        const state = join(DATA, `${scenario}-state`, String(round));
        await rm(state, { recursive: true, force: true });
        await vouchConfig(config, pki, `{ type: crl, urls: [${url}], fetch: { stateFolder: ${state}, maxInterval: PT1H }, pollInterval: PT1H }`);
        results.push(await measure(scenario, process.execPath, [...vouch, config], requestDer));
        break;
      }
      case "vouch-sqlite":
      case "vouch-postgres": {
        if (!(await vouchStoreExists())) {
          log(`${scenario}: skipped (this build has no vouch store)`);
          break;
        }
        const database = scenario === "vouch-sqlite" ? join(DATA, `status-${ENTRIES}.db`) : PG;
        const marker = join(DATA, `${scenario}-${ENTRIES}.imported`);
        if (!(await exists(marker))) {
          log(`${scenario}: vouch store import-index (once)`);
          await run(process.execPath, [join(REPO, "bin/vouch.js"), "store", "import-index", index, "--database", database, "--issuer", pki.ca], { env: ENV, maxBuffer: 1 << 26 });
          await writeFile(marker, "");
        }
        await vouchConfig(config, pki, `{ type: sql, database: "${database}", pollInterval: PT1H }`);
        results.push(await measure(scenario, process.execPath, [...vouch, config], requestDer));
        break;
      }
      default:
        throw new Error(`unknown scenario ${scenario}`);
    }
    const last = results.pop();
    if (last !== undefined) {
      log(`${last.scenario} (round ${round}): ready ${last.readyMs.toFixed(0)} ms, RSS ${last.rssMiB.toFixed(0)} MiB, peak ${last.peakMiB.toFixed(0)} MiB`);
      runs.set(last.scenario, [...(runs.get(last.scenario) ?? []), last]);
    }
  }
  // The median of each figure over the rounds.
  for (const [scenario, measured] of runs) {
    results.push({ scenario, readyMs: median(measured.map((m) => m.readyMs)), rssMiB: median(measured.map((m) => m.rssMiB)), peakMiB: median(measured.map((m) => m.peakMiB)) });
  }

  const reference = results.find((result) => result.scenario === "openssl-index");
  const lines = [
    `| ${ENTRIES.toLocaleString("en")} revoked${READY_ROUNDS > 1 ? `, median of ${READY_ROUNDS} rounds` : ""} | ready (ms) | RSS at ready (MiB) | peak RSS (MiB) | ready vs OpenSSL | RSS vs OpenSSL |`,
    "|---|---:|---:|---:|---:|---:|",
    ...results.map((result) => {
      const ratio = (a: number, b: number | undefined) => (b === undefined ? "—" : `${(a / b).toFixed(2)}×`);
      return `| ${result.scenario} | ${result.readyMs.toFixed(0)} | ${result.rssMiB.toFixed(0)} | ${result.peakMiB.toFixed(0)} | ${ratio(result.readyMs, reference?.readyMs)} | ${ratio(result.rssMiB, reference?.rssMiB)} |`;
    }),
    ...overFileLines(runs),
  ];
  if (RELOAD_SECONDS > 0) lines.push("", ...(await reloadLatency(pki, index, requestDer)));
  if (SWAP_SECONDS > 0) {
    if (SWAP_SERVER === "nginx" && nginx === undefined) throw new Error("SWAP_SERVER=nginx needs /usr/sbin/nginx (apt-get install nginx)");
    lines.push("", ...(await crlSwapLatency(pki, crl, gencrl, SWAP_SERVER === "nginx" && nginx !== undefined ? nginx : distribution)));
  }
  await distribution.close();
  await nginx?.close();
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * Each URL scenario's time to ready over the file's, round by round (the two started one after the
 * other, so that the machine's drift over a run, which moved whole rounds by 20-30% on a 2-core VM,
 * cancels out), and their median: the figure issue 16's goal is about.
 */
function overFileLines(runs: ReadonlyMap<string, readonly Measured[]>): string[] {
  const file = runs.get("vouch-crl");
  if (file === undefined) return [];
  const lines: string[] = [];
  for (const scenario of ["vouch-crl-http", "vouch-crl-nginx"]) {
    const ratios = (runs.get(scenario) ?? []).map((measured, round) => measured.readyMs / (file[round]?.readyMs ?? Number.NaN)).filter((value) => !Number.isNaN(value));
    if (ratios.length > 0) lines.push(`\n${scenario} ÷ vouch-crl, ready, per round: ${ratios.map((value) => value.toFixed(2)).join(", ")}; median ${median(ratios).toFixed(2)}×`);
  }
  return lines;
}

/** A CRL distribution point on loopback: serves one CRL file (streamed, with an ETag from its path and size: a new file is a new CRL). */
async function serveCrls(): Promise<{ url: string; served: () => number; serve(file: string): void; close(): Promise<void> }> {
  let current = "";
  let full = 0;
  const server = createServer((request, response) => {
    void stat(current).then((info) => {
      const etag = `"${info.size}-${info.mtimeMs}"`;
      if (request.headers["if-none-match"] === etag) {
        response.writeHead(304, { etag }).end();
        return;
      }
      full++;
      response.writeHead(200, { "content-type": "application/pkix-crl", "content-length": info.size, etag });
      createReadStream(current).pipe(response);
    });
  });
  await new Promise<void>((done) => server.listen(PORT + 1, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${PORT + 1}/ca.crl`,
    served: () => full,
    serve(file) {
      current = file;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/**
 * p99 under wrk load on a crl source fetching every second over HTTP: a control run (the CRL
 * unchanged, each fetch a 304) and a run during which a new CRL of the same entries is published (the
 * next CRL number, made beforehand), fetched whole, checked and swapped in; RELOAD_ROUNDS rounds,
 * median p99 of each kind. The time from publishing to answers coming from the new CRL is read from
 * vouch_crl_number on the admin listener.
 */
async function crlSwapLatency(
  pki: ReturnType<typeof pkiPaths>,
  crl: string,
  gencrl: (out: string) => Promise<void>,
  distribution: { readonly url: string; serve(file: string): unknown },
): Promise<string[]> {
  const next: string[] = [];
  for (let round = 0; round < RELOAD_ROUNDS; round++) {
    // Made once and kept (each takes ~40 s): each has the next CRL number, and every run starts from a fresh state folder.
    const file = join(DATA, `swap-${ENTRIES}-${round}.der`);
    if (!(await exists(file))) {
      log(`swap: openssl ca -gencrl for round ${round + 1}`);
      await gencrl(file);
    }
    next.push(file);
  }
  await distribution.serve(crl);
  const state = join(DATA, "swap-state");
  await rm(state, { recursive: true, force: true });
  const config = join(DATA, "swap.yaml");
  await vouchConfig(config, pki, `{ type: crl, urls: [${distribution.url}], fetch: { stateFolder: ${state}, maxInterval: PT1S, margin: PT1M }, pollInterval: PT1H }`);
  await writeFile(config, `${await readFile(config, "utf8")}admin:\n  listen: { host: 127.0.0.1, port: ${PORT + 2} }\n`);
  const goodRequest = join(DATA, "reload-request.der");
  await run("openssl", ["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-no_nonce", "-reqout", goodRequest], { env: ENV });
  await requirePortFree();
  const server = spawn(process.execPath, [join(REPO, "bin/vouch.js"), "serve", "--workers", "1", "--config", config], { env: ENV, stdio: "ignore" });
  const crlNumber = async (): Promise<number> => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${PORT + 2}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      return Number(/^vouch_crl_number\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    } catch {
      return Number.NaN;
    }
  };
  try {
    const first = Date.now();
    while (Number.isNaN(await crlNumber())) {
      if (Date.now() - first > 300_000) throw new Error("the crl-http server did not load its CRL in 300 s");
      await new Promise((done) => setTimeout(done, 200));
    }
    const wrk = async () => {
      const { stdout } = await run("wrk", ["-t1", "-c8", `-d${SWAP_SECONDS}s`, "--latency", "-s", join(REPO, "bench/lib/ocsp-post.lua"), `http://127.0.0.1:${PORT}/`], { env: { ...ENV, BENCH_REQ: goodRequest } });
      const line = stdout.split("\n").find((text) => text.startsWith("BENCH ")) ?? "";
      const field = (name: string) => Number(new RegExp(`${name}=([0-9.]+)`).exec(line)?.[1] ?? Number.NaN);
      return { rps: field("rps"), p99: field("p99_us") / 1000, errors: field("non200") + field("not_ocsp_ok") + field("sock_errors") };
    };
    await wrk(); // warm-up
    const controls: Awaited<ReturnType<typeof wrk>>[] = [];
    const swaps: Awaited<ReturnType<typeof wrk>>[] = [];
    const swapMs: number[] = [];
    for (const file of next) {
      controls.push(await wrk());
      const before = await crlNumber();
      const load = wrk();
      // A second into the run, so that the swap happens under the load.
      await new Promise((done) => setTimeout(done, 1_000));
      const published = performance.now();
      await distribution.serve(file);
      let swapped = false;
      while (!swapped && performance.now() - published < SWAP_SECONDS * 1_000) {
        swapped = (await crlNumber()) > before;
        if (!swapped) await new Promise((done) => setTimeout(done, 100));
      }
      if (swapped) swapMs.push(performance.now() - published);
      swaps.push(await load);
      log(`swap round ${swaps.length}: p99 control ${controls.at(-1)?.p99.toFixed(2)} ms, during the swap ${swaps.at(-1)?.p99.toFixed(2)} ms${swapped ? `, new CRL in answers after ${swapMs.at(-1)?.toFixed(0)} ms` : ", the swap did not finish within the run"}`);
    }
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const swapOverControl = swaps.map((swap, i) => swap.p99 / (controls[i]?.p99 ?? Number.NaN));
    return [
      `| crl source over HTTP, ${ENTRIES.toLocaleString("en")} entries, fetched every second, wrk -c8 keep-alive, live signing${RELOAD_ROUNDS > 1 ? `, median of ${RELOAD_ROUNDS} rounds` : ""} | req/s | p99 (ms) | failed |`,
      "|---|---:|---:|---:|",
      `| control: the CRL unchanged (each fetch a 304) | ${median(controls.map((c) => c.rps)).toFixed(0)} | ${median(controls.map((c) => c.p99)).toFixed(2)} | ${sum(controls.map((c) => c.errors))} |`,
      `| a new CRL fetched and swapped in during the run (${swapMs.length} of ${swaps.length} swapped${swapMs.length === 0 ? "" : `, median ${median(swapMs).toFixed(0)} ms from publishing to answers`}) | ${median(swaps.map((c) => c.rps)).toFixed(0)} | ${median(swaps.map((c) => c.p99)).toFixed(2)} | ${sum(swaps.map((c) => c.errors))} |`,
      "",
      // Each swap run over the control just before it, as the ready times are paired (overFileLines).
      `p99 during the swap ÷ control, per round (CRL served by ${SWAP_SERVER === "nginx" ? "nginx" : "this process's node:http"}): ${swapOverControl.map((value) => value.toFixed(2)).join(", ")}; median ${median(swapOverControl).toFixed(2)}×`,
    ];
  } finally {
    server.kill("SIGKILL");
  }
}

/**
 * p99 under wrk load on an index source, quiet and while the index file is replaced every second
 * (written beside it and renamed over it, as `openssl ca` does), in RELOAD_ROUNDS interleaved
 * rounds (median p99 of each kind). REWRITE=changed (default) flips the last entry between revoked
 * and good on every write, so every reload parses, and a poller asking about that entry times how
 * long each change takes to show under the load; REWRITE=same writes the same content each time.
 */
async function reloadLatency(pki: ReturnType<typeof pkiPaths>, index: string, requestDer: Buffer): Promise<string[]> {
  const copy = join(DATA, "reload-index.txt");
  const original = await readFile(index);
  // The last line with status V and no revocation field: the same entry, not revoked.
  const lastLine = original.lastIndexOf(0x0a, original.length - 2) + 1;
  const fields = original.toString("latin1", lastLine).split("\t");
  const flipped = Buffer.concat([original.subarray(0, lastLine), Buffer.from(["V", fields[1], "", ...fields.slice(3)].join("\t"), "latin1")]);
  await writeFile(copy, original);
  const config = join(DATA, "reload.yaml");
  await vouchConfig(config, pki, `{ type: index, file: ${copy}, pollInterval: PT1S }`);
  const goodRequest = join(DATA, "reload-request.der");
  await run("openssl", ["ocsp", "-issuer", pki.ca, "-cert", pki.good, "-no_nonce", "-reqout", goodRequest], { env: ENV });
  await requirePortFree();
  const server = spawn(process.execPath, [join(REPO, "bin/vouch.js"), "serve", "--workers", "1", "--config", config], { env: ENV, stdio: "ignore" });
  const lastEntryStatus = async (): Promise<string | undefined> => {
    try {
      const response = await fetch(`http://127.0.0.1:${PORT}/`, { method: "POST", body: requestDer, headers: { "content-type": "application/ocsp-request" }, signal: AbortSignal.timeout(10_000) });
      const decoded = decodeOcspResponse(Buffer.from(await response.arrayBuffer()));
      return decoded.status === "successful" ? decoded.basic.responses[0]?.status.kind : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    await new Promise((done) => setTimeout(done, 500));
    for (let tries = 0; tries < 600 && (await lastEntryStatus()) !== "revoked"; tries++) await new Promise((done) => setTimeout(done, 100));
    const wrk = async () => {
      const { stdout } = await run("wrk", ["-t1", "-c8", `-d${RELOAD_SECONDS}s`, "--latency", "-s", join(REPO, "bench/lib/ocsp-post.lua"), `http://127.0.0.1:${PORT}/`], { env: { ...ENV, BENCH_REQ: goodRequest } });
      const line = stdout.split("\n").find((text) => text.startsWith("BENCH ")) ?? "";
      const field = (name: string) => Number(new RegExp(`${name}=([0-9.]+)`).exec(line)?.[1] ?? Number.NaN);
      return { rps: field("rps"), p99: field("p99_us") / 1000, errors: field("non200") + field("not_ocsp_ok") + field("sock_errors") };
    };
    let revoked = true;
    const reloadMs: number[] = [];
    // The control: the same writes to a file Vouch does not read, in another folder (what writing
    // 116 MB a second costs the machine by itself, which the watched runs pay too).
    const control = join(DATA, "control", "index.txt");
    await mkdir(dirname(control), { recursive: true });
    const rewriting = async (target: "watched" | "control") => {
      let going = true;
      let writes = 0;
      const writer = (async () => {
        while (going) {
          const written = performance.now();
          if (REWRITE === "same" || target === "control") {
            const file = target === "control" ? control : copy;
            await writeFile(`${file}.new`, revoked ? original : flipped);
            await rename(`${file}.new`, file);
            writes++;
            // The control also asks what the rewriting run's poller asks, for as long as a change
            // took to show there (CONTROL_POLL_MS): that load is the bench's, not the reload's.
            if (target === "control") while (going && performance.now() - written < CONTROL_POLL_MS) await Promise.all([lastEntryStatus(), new Promise((done) => setTimeout(done, POLL_MS))]);
            const rest = 1_000 - (performance.now() - written);
            if (rest > 0) await new Promise((done) => setTimeout(done, rest));
            continue;
          }
          revoked = !revoked;
          await writeFile(`${copy}.new`, revoked ? original : flipped);
          await rename(`${copy}.new`, copy);
          writes++;
          // Until the change shows (or 30 s), then the rest of the second.
          while (going && performance.now() - written < 30_000 && (await lastEntryStatus()) !== (revoked ? "revoked" : "good")) await new Promise((done) => setTimeout(done, POLL_MS));
          if (!going) break;
          reloadMs.push(performance.now() - written);
          const rest = 1_000 - (performance.now() - written);
          if (rest > 0) await new Promise((done) => setTimeout(done, rest));
        }
      })();
      const result = await wrk();
      going = false;
      await writer;
      return { ...result, writes };
    };
    await wrk(); // warm-up
    const quiet: Awaited<ReturnType<typeof wrk>>[] = [];
    const busy: Awaited<ReturnType<typeof rewriting>>[] = [];
    const controls: Awaited<ReturnType<typeof rewriting>>[] = [];
    for (let round = 0; round < RELOAD_ROUNDS; round++) {
      quiet.push(await wrk());
      controls.push(await rewriting("control"));
      busy.push(await rewriting("watched"));
      log(`reload round ${round + 1}: p99 quiet ${quiet.at(-1)?.p99.toFixed(2)} ms, writes to an unread file ${controls.at(-1)?.p99.toFixed(2)} ms, rewriting the index ${busy.at(-1)?.p99.toFixed(2)} ms`);
    }
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const reloads = reloadMs.length === 0 ? "" : `; each change showed after ${median(reloadMs).toFixed(0)} ms (median), ${Math.max(...reloadMs).toFixed(0)} ms (max)`;
    return [
      `| index source, ${ENTRIES.toLocaleString("en")} entries, wrk -c8 keep-alive, live signing${RELOAD_ROUNDS > 1 ? `, median of ${RELOAD_ROUNDS} rounds` : ""} | req/s | p99 (ms) | failed |`,
      "|---|---:|---:|---:|",
      `| quiet | ${median(quiet.map((q) => q.rps)).toFixed(0)} | ${median(quiet.map((q) => q.p99)).toFixed(2)} | ${sum(quiet.map((q) => q.errors))} |`,
      `| the same writes to a file Vouch does not read, and the same polling (control) | ${median(controls.map((b) => b.rps)).toFixed(0)} | ${median(controls.map((b) => b.p99)).toFixed(2)} | ${sum(controls.map((b) => b.errors))} |`,
      `| file replaced every second, ${REWRITE === "same" ? "same content" : "one entry changed"} (${sum(busy.map((b) => b.writes))} writes${reloads}) | ${median(busy.map((b) => b.rps)).toFixed(0)} | ${median(busy.map((b) => b.p99)).toFixed(2)} | ${sum(busy.map((b) => b.errors))} |`,
    ];
  } finally {
    server.kill("SIGKILL");
  }
}

await main();
