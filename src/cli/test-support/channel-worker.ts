/**
 * A worker for worker-channel.test.ts: answers "pid" with its pid, "echo" with the payload, never
 * answers "slow", fails "broken", answers "siblings" with what its siblings answered to the kind in
 * the payload (askSiblings, 300 ms); stays alive until disconnected.
 */
import { askSiblings, onSupervisorAsk } from "../worker-channel.ts";

onSupervisorAsk("pid", () => process.pid);
onSupervisorAsk("echo", async (payload) => ({ pid: process.pid, payload }));
onSupervisorAsk("slow", () => new Promise(() => {}));
onSupervisorAsk("broken", () => {
  throw new Error("this handler fails");
});
onSupervisorAsk("siblings", (kind) => askSiblings(kind as string, null, 300));
process.on("disconnect", () => process.exit(0));
process.send!("ready");
