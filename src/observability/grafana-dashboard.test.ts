/**
 * The Grafana dashboard in docs/grafana cannot drift from the code: it is well-formed JSON, every
 * metric its queries read exists in the registry (Vouch's, the supervisor's counters, and the
 * process and Node.js metrics prom-client collects), with every label the query names, and it
 * declares the data source input that Grafana's import dialog asks for.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { createMetrics } from "./metrics.ts";
import { reloadCounter, workerRestartCounter } from "./supervision-metrics.ts";

/** Labels Prometheus adds to every series it scrapes (the target's), which no registry declares. */
const TARGET_LABELS = new Set(["instance", "job"]);

const DASHBOARD = resolve(import.meta.dirname, "../../docs/grafana/vouch-dashboard.json");

interface Panel {
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}

/** Every PromQL expression of the dashboard, with its panel's title. */
async function expressions(): Promise<{ title: string; expr: string }[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { panels: Panel[]; templating: { list: { query?: unknown; definition?: string }[] } };
  const found = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })));
  for (const variable of dashboard.templating.list) if (variable.definition !== undefined) found.push({ title: "variable", expr: variable.definition });
  return found;
}

/** Label names a metric selector or aggregation mentions: `{a="x", b=~"y"}` and `by (a, b)`. */
function labelsNamed(expr: string, metric: string): string[] {
  const names: string[] = [];
  for (const selector of expr.matchAll(new RegExp(`${metric}\\{([^}]*)\\}`, "g"))) {
    for (const matcher of selector[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) names.push(matcher[1]!);
  }
  return names;
}

test("the dashboard is JSON whose panels all have queries, ids unique", async () => {
  const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { uid: string; panels: (Panel & { id: number })[] };
  assert.equal(dashboard.uid, "vouch-ocsp");
  assert.ok(dashboard.panels.length >= 10);
  assert.equal(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.panels.length);
  for (const panel of dashboard.panels) assert.ok((panel.targets ?? []).length > 0, panel.title);
});

test("every metric the dashboard queries is registered, with the labels the query uses", async () => {
  const { registry } = createMetrics({ clock: fixedClock(0), processMetrics: true });
  reloadCounter(registry);
  workerRestartCounter(registry);
  const used = new Set<string>();
  for (const { title, expr } of await expressions()) {
    const metrics = [...expr.matchAll(/\b((?:vouch|process|nodejs)_[a-z0-9_]+)\b/g)].map((match) => match[1]!);
    assert.ok(metrics.length > 0, `${title}: queries no Vouch, process or Node.js metric`);
    for (const name of metrics) {
      // Histogram series: name_bucket (with le), name_count, name_sum.
      const base = name.replace(/_(bucket|count|sum)$/, "");
      const metric = registry.getSingleMetric(base) ?? registry.getSingleMetric(name);
      assert.ok(metric !== undefined, `${title}: ${name} is not a Vouch metric`);
      used.add(base);
      const labelNames = new Set([...((metric as unknown as { labelNames: string[] }).labelNames ?? []), ...(name.endsWith("_bucket") ? ["le"] : [])]);
      for (const label of labelsNamed(expr, name)) assert.ok(labelNames.has(label) || TARGET_LABELS.has(label), `${title}: ${name} has no label "${label}"`);
    }
    for (const group of expr.matchAll(/by \(([^)]*)\)/g)) {
      for (const label of group[1]!.split(",").map((part) => part.trim())) {
        assert.ok(
          metrics.some((name) => {
            const metric = registry.getSingleMetric(name.replace(/_(bucket|count|sum)$/, ""));
            return label === "le" || TARGET_LABELS.has(label) || ((metric as unknown as { labelNames: string[] } | undefined)?.labelNames ?? []).includes(label);
          }),
          `${title}: grouped by "${label}", which no queried metric has`,
        );
      }
    }
  }
  // The dashboard shows every Vouch metric.
  const all = (await registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => name.startsWith("vouch_"));
  assert.deepEqual([...used].filter((name) => name.startsWith("vouch_")).sort(), all.sort());
});

test("the dashboard declares its Prometheus data source as an import input, and every panel uses it through the data source variable", async () => {
  const text = await readFile(DASHBOARD, "utf8");
  const dashboard = JSON.parse(text) as {
    __inputs: { name: string; type: string; pluginId: string }[];
    panels: { title: string; datasource: { uid: string }; targets: { datasource: { uid: string } }[] }[];
    templating: { list: { name: string; type: string; current?: { value?: unknown }; datasource?: { uid: string } }[] };
  };
  assert.deepEqual(
    dashboard.__inputs.map(({ name, type, pluginId }) => ({ name, type, pluginId })),
    [{ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }],
  );
  // Grafana replaces ${DS_PROMETHEUS} with the data source chosen at import; nothing else may be left for it to fill.
  assert.deepEqual([...new Set(text.match(/\$\{DS_[A-Z_]+\}/g))], ["${DS_PROMETHEUS}"]);
  const variable = dashboard.templating.list.find((entry) => entry.name === "datasource");
  assert.equal(variable?.type, "datasource");
  assert.equal(variable?.current?.value, "${DS_PROMETHEUS}");
  for (const panel of dashboard.panels) {
    assert.equal(panel.datasource.uid, "${datasource}", panel.title);
    for (const target of panel.targets) assert.equal(target.datasource.uid, "${datasource}", panel.title);
  }
  for (const entry of dashboard.templating.list) if (entry.datasource !== undefined) assert.equal(entry.datasource.uid, "${datasource}", entry.name);
});

test("the dashboard has panels for the operator's metrics and for process memory, CPU and event-loop delay", async () => {
  const all = (await expressions()).map(({ expr }) => expr).join("\n");
  for (const metric of [
    "vouch_worker_restarts_total",
    "vouch_reloads_total",
    "vouch_forwarding_circuit_state",
    "vouch_redis_up",
    "vouch_response_cache_entries",
    "vouch_response_cache_evictions_total",
    "vouch_billing_batches_total",
    "vouch_open_connections",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
    "nodejs_eventloop_lag_p99_seconds",
  ]) {
    assert.ok(all.includes(metric), `no panel queries ${metric}`);
  }
});
