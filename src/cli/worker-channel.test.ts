import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import { after, test } from "node:test";
import { askWorker, askWorkers, onSupervisorAsk, relaySiblingAsks, superviseWorkers } from "./worker-channel.ts";

const WORKER = new URL("./test-support/channel-worker.ts", import.meta.url);
const children: ChildProcess[] = [];

function startWorker(): Promise<ChildProcess> {
  const child = fork(WORKER, [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`test worker exited with ${code}`)));
  });
}

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

// Runs first: until superviseWorkers is called, this process answers its own questions.
test("without a supervisor, askWorkers answers from this process's handlers", async () => {
  onSupervisorAsk("local", (payload) => ({ seen: payload }));
  assert.deepEqual(await askWorkers("local", { payload: 7 }), [{ seen: 7 }]);
  assert.deepEqual(await askWorkers("nobody-handles-this"), []);
  onSupervisorAsk("local-slow", () => new Promise(() => {}));
  assert.deepEqual(await askWorkers("local-slow", { timeoutMs: 50 }), []);
});

test("the supervisor gets one answer per live worker; a killed, a silent or a failing worker is missing", async () => {
  const workers = await Promise.all([startWorker(), startWorker(), startWorker()]);
  let listed: ChildProcess[] = workers;
  superviseWorkers(() => listed);
  const pids = (await askWorkers("pid")) as number[];
  assert.deepEqual(pids, workers.map((child) => child.pid));

  const echoed = (await askWorkers("echo", { payload: { reload: "text", bytes: Buffer.from("ok") } })) as { pid: number; payload: { reload: string; bytes: Uint8Array } }[];
  assert.deepEqual(echoed.map((entry) => entry.payload.reload), ["text", "text", "text"]);
  assert.equal(Buffer.from(echoed[0]!.payload.bytes).toString(), "ok", "payloads are structured clones");

  const dead = workers[1]!;
  const exited = new Promise((resolve) => dead.once("exit", resolve));
  dead.kill("SIGKILL");
  await exited;
  assert.deepEqual(await askWorkers("pid"), [workers[0]!.pid, workers[2]!.pid], "a dead worker is left out");

  assert.deepEqual(await askWorkers("slow", { timeoutMs: 200 }), [], "workers that do not answer in time are left out");
  assert.deepEqual(await askWorkers("broken"), [], "a failing handler gives no answer");
  assert.deepEqual(await askWorkers("unknown-kind"), [], "a kind nobody handles gives no answers");

  // A worker that dies while the question is pending is left out without waiting for the timeout.
  const pending = askWorkers("slow", { timeoutMs: 60_000 });
  workers[0]!.kill("SIGKILL");
  workers[2]!.kill("SIGKILL");
  assert.deepEqual(await pending, []);
  listed = [];
  assert.deepEqual(await askWorkers("pid"), []);
});

test("a worker asks its siblings through the supervisor: every other live worker's answer, the silent ones left out in time", async () => {
  const workers = await Promise.all([startWorker(), startWorker(), startWorker()]);
  superviseWorkers(() => workers);
  for (const child of workers) relaySiblingAsks(child, () => workers);
  const asked = (await askWorker(workers[0]!, "siblings", { payload: "pid" }))?.value as { asked: number; answers: number[] };
  assert.deepEqual(asked, { asked: 2, answers: [workers[1]!.pid, workers[2]!.pid] }, "the asking worker is not asked");
  const silent = (await askWorker(workers[1]!, "siblings", { payload: "slow" }))?.value as { asked: number; answers: unknown[] };
  assert.deepEqual(silent, { asked: 2, answers: [] });
  for (const child of workers) child.kill("SIGKILL");
});
