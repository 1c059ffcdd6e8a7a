import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { workerExecArgv, workerThreadLimits } from "./worker-heap.ts";

// Short-lived garbage in bulk, as a worker under load makes it; then the young generation's size.
const CHURN = `
  const v8 = require("node:v8");
  let keep = [];
  for (let i = 0; i < 3e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 300000) keep = []; }
  const size = v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space").space_size;
  (require("node:worker_threads").parentPort ?? { postMessage: (m) => process.stdout.write(String(m)) }).postMessage(size / 1048576);
`;

test("a worker thread's young generation stays at two 16 MiB semi-spaces under churn (V8's default grows to 64 MiB)", async () => {
  const thread = new Worker(CHURN, { eval: true, resourceLimits: workerThreadLimits() });
  const [mib] = (await once(thread, "message")) as [number];
  assert.ok(mib <= 32, `new space ${mib} MiB`);
  const unlimited = new Worker(CHURN, { eval: true });
  const [grown] = (await once(unlimited, "message")) as [number];
  assert.ok(grown > 32, `without the limit the new space grows (${grown} MiB), so the first figure means something`);
});

test("a worker process gets the cap on its command line, unless the operator set the size in NODE_OPTIONS", () => {
  const cap = workerExecArgv().filter((flag) => flag.startsWith("--max-semi-space-size"));
  assert.deepEqual(cap, ["--max-semi-space-size=16"]);
  const mib = Number(execFileSync(process.execPath, [...cap, "-e", CHURN], { env: { ...process.env, NODE_OPTIONS: "" } }).toString());
  assert.ok(mib <= 32, `new space ${mib} MiB`);
  const chosen = execFileSync(process.execPath, ["--input-type=module", "-e", `import { workerExecArgv } from ${JSON.stringify(new URL("./worker-heap.ts", import.meta.url).href)}; process.stdout.write(JSON.stringify(workerExecArgv()))`], {
    env: { ...process.env, NODE_OPTIONS: "--max-semi-space-size=4" },
  }).toString();
  assert.ok(!chosen.includes("--max-semi-space-size=16"), chosen);
});
