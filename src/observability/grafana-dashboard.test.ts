/**
 * The Grafana dashboard in docs/grafana cannot drift from the code: it is well-formed JSON, and
 * every metric its queries read exists in the registry, with every label the query names.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { test } from "node:test";
import { fixedClock } from "../clock.ts";
import { createMetrics } from "./metrics.ts";

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
  const { registry } = createMetrics({ clock: fixedClock(0), processMetrics: false });
  const used = new Set<string>();
  for (const { title, expr } of await expressions()) {
    const metrics = [...expr.matchAll(/\b(vouch_[a-z0-9_]+)\b/g)].map((match) => match[1]!);
    assert.ok(metrics.length > 0, `${title}: queries no vouch_ metric`);
    for (const name of metrics) {
      // Histogram series: name_bucket (with le), name_count, name_sum.
      const base = name.replace(/_(bucket|count|sum)$/, "");
      const metric = registry.getSingleMetric(base) ?? registry.getSingleMetric(name);
      assert.ok(metric !== undefined, `${title}: ${name} is not a Vouch metric`);
      used.add(base);
      const labelNames = new Set([...((metric as unknown as { labelNames: string[] }).labelNames ?? []), ...(name.endsWith("_bucket") ? ["le"] : [])]);
      for (const label of labelsNamed(expr, name)) assert.ok(labelNames.has(label), `${title}: ${name} has no label "${label}"`);
    }
    for (const group of expr.matchAll(/by \(([^)]*)\)/g)) {
      for (const label of group[1]!.split(",").map((part) => part.trim())) {
        assert.ok(
          metrics.some((name) => {
            const metric = registry.getSingleMetric(name.replace(/_(bucket|count|sum)$/, ""));
            return label === "le" || ((metric as unknown as { labelNames: string[] } | undefined)?.labelNames ?? []).includes(label);
          }),
          `${title}: grouped by "${label}", which no queried metric has`,
        );
      }
    }
  }
  // The dashboard shows every Vouch metric.
  const all = (await registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => name.startsWith("vouch_"));
  assert.deepEqual([...used].sort(), all.sort());
});
