/**
 * Micro-benchmark of what observability adds to one request: the calls a basic responder's request
 * makes into the metrics (request counter and latency histogram, the steps decode, local-validation,
 * sign and send, one source answer, one signature, one certificate status), against the same
 * label sets counted with prom-client's own `inc` (what the lazy counters avoid). Plus the cost of a
 * scrape of that registry. CPU time of this process only, so other load on the machine matters less
 * than in a wrk run (it still matters: report the figures as provisional).
 *
 *   node bench/metrics-overhead.ts [seconds-per-case]
 */
import { Counter, Histogram, Registry } from "prom-client";
import { fixedClock } from "../src/clock.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { requestObserver } from "../src/operations/request-metrics.ts";
import { stepResultRecorders } from "../src/observability/step-results.ts";
import { createExchange } from "../src/pipeline/exchange.ts";

const secondsPerCase = Number(process.argv[2] ?? 2);

/** Runs `fn` for about `secondsPerCase` of CPU after a warm-up; returns ns per call. */
function measure(fn: () => unknown): number {
  for (let i = 0; i < 20_000; i++) fn();
  let iterations = 0;
  const start = process.cpuUsage();
  const budget = secondsPerCase * 1e6;
  let used = 0;
  while (used < budget) {
    for (let i = 0; i < 5000; i++) fn();
    iterations += 5000;
    const now = process.cpuUsage(start);
    used = now.user + now.system;
  }
  return (used * 1000) / iterations;
}

const clock = fixedClock("2030-01-01T00:00:00Z");
const metrics = createMetrics({ clock, processMetrics: false });
const observer = requestObserver(metrics, "bench", "basic");
const steps = stepResultRecorders(metrics, "bench");
const [decode, local, sign, send] = ["decode", "local-validation", "sign", "send"].map(steps) as [ReturnType<typeof steps>, ReturnType<typeof steps>, ReturnType<typeof steps>, ReturnType<typeof steps>];
const source = metrics.sourceResults.child({ responder: "bench", issuer: "C=SE, O=Vouch Demo, CN=Vouch Demo Issuing CA", source: "index", result: "good" });
const signer = metrics.signerResults.child({ responder: "bench", issuer: "C=SE, O=Vouch Demo, CN=Vouch Demo Issuing CA", result: "signed" });
const exchange = createExchange({ received: Buffer.alloc(0), method: "POST", clientAddress: "127.0.0.1", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: 0 });
exchange.response = { body: Buffer.alloc(0), producedAt: new Date(0), cacheWindow: undefined };
exchange.source = "local";
exchange.answers = [{ certIdDer: Buffer.alloc(0), status: { kind: "good" }, thisUpdate: new Date(0), nextUpdate: undefined, invalidityDate: undefined, extensions: [] }];

const vouch = measure(() => {
  decode.passed();
  source.inc();
  local.passed();
  signer.inc();
  sign.answered();
  send.passed();
  observer.exchange(exchange, 200, 0.0003);
});

// The same events with prom-client counters bound by `labels(...)` (each inc hashes its label set).
const registry = new Registry();
const requests = new Counter({ name: "r", help: "r", labelNames: ["responder", "type", "method", "outcome", "status", "code"], registers: [registry] });
const stepCounter = new Counter({ name: "s", help: "s", labelNames: ["responder", "step", "result"], registers: [registry] });
const sourceCounter = new Counter({ name: "so", help: "so", labelNames: ["responder", "issuer", "source", "result"], registers: [registry] });
const signerCounter = new Counter({ name: "si", help: "si", labelNames: ["responder", "issuer", "result"], registers: [registry] });
const answers = new Counter({ name: "a", help: "a", labelNames: ["responder", "status"], registers: [registry] });
const duration = new Histogram({ name: "d", help: "d", labelNames: ["responder"], registers: [registry], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] }).labels({ responder: "bench" });
const bound = [
  stepCounter.labels({ responder: "bench", step: "decode", result: "passed" }),
  sourceCounter.labels({ responder: "bench", issuer: "C=SE, O=Vouch Demo, CN=Vouch Demo Issuing CA", source: "index", result: "good" }),
  stepCounter.labels({ responder: "bench", step: "local-validation", result: "passed" }),
  signerCounter.labels({ responder: "bench", issuer: "C=SE, O=Vouch Demo, CN=Vouch Demo Issuing CA", result: "signed" }),
  stepCounter.labels({ responder: "bench", step: "sign", result: "answered" }),
  stepCounter.labels({ responder: "bench", step: "send", result: "passed" }),
  requests.labels({ responder: "bench", type: "basic", method: "POST", outcome: "local", status: "successful", code: "200" }),
  answers.labels({ responder: "bench", status: "good" }),
];
const promClient = measure(() => {
  for (const counter of bound) counter.inc();
  duration.observe(0.0003);
});

const started = process.cpuUsage();
let scrapes = 0;
for (; scrapes < 200; scrapes++) await metrics.text();
const scrapeCpu = process.cpuUsage(started);

console.log(`per request, Vouch's metrics (lazy counters + histogram): ${vouch.toFixed(0)} ns`);
console.log(`per request, the same with prom-client counters:          ${promClient.toFixed(0)} ns`);
console.log(`one scrape of the registry (no process metrics):          ${((scrapeCpu.user + scrapeCpu.system) / scrapes).toFixed(0)} µs`);
