/**
 * bench/profile-top.ts FILE.cpuprofile [N=25] - the hottest functions of a `node --cpu-prof` profile
 * (written by `PROFILE=1 bench/run.sh`), by self time and by total (inclusive) time, as plain text.
 * Total time counts a function once per sample even when it is on the stack more than once.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, countArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write("usage: node bench/profile-top.ts FILE.cpuprofile [N]\n");
  process.exit(2);
}
const top = Number(countArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  let where = url.replace(/^file:\/\//, "");
  if (where.startsWith("/")) where = relative(process.cwd(), where);
  return `${functionName || "(anonymous)"}${where ? ` ${where}:${lineNumber + 1}` : ""}`;
}

const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  all += dt;
  const leaf = byId.get(id);
  if (leaf === undefined) return;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const node = byId.get(cur);
    if (node === undefined) break;
    const name = label(node);
    if (seen.has(name)) continue;
    seen.add(name);
    total.set(name, (total.get(name) ?? 0) + dt);
  }
});

const idle = self.get("(idle)") ?? 0;
const busy = all - idle;
const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
process.stdout.write(`${file}: ${(all / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle (percentages of that)\n`);
for (const [title, map] of [["self", self], ["total", total]] as const) {
  process.stdout.write(`\n-- by ${title} time\n`);
  [...map.entries()]
    .filter(([name]) => name !== "(idle)" && name !== "(root)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([name, us]) => process.stdout.write(`${pct(us)}  ${name}\n`));
}
