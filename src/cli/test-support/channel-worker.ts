/**
 * A worker for worker-channel.test.ts: answers "pid" with its pid, "echo" with the payload, never
 * answers "slow", fails "broken"; stays alive until disconnected.
 */
import { onSupervisorAsk } from "../worker-channel.ts";

onSupervisorAsk("pid", () => process.pid);
onSupervisorAsk("echo", async (payload) => ({ pid: process.pid, payload }));
onSupervisorAsk("slow", () => new Promise(() => {}));
onSupervisorAsk("broken", () => {
  throw new Error("this handler fails");
});
process.on("disconnect", () => process.exit(0));
process.send!("ready");
