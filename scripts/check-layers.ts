/**
 * No import runs upward: every file of src/ belongs to a layer, and imports only from its own layer
 * or the layers below it. Run by `npm run lint`; prints each upward import and exits 1.
 *
 *   node scripts/check-layers.ts
 *
 * Tests, contract suites and test-support files are left out: a test may reach for any fixture.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

/** The layers, lowest first: a path (a folder ends in '/') belongs to the first layer naming its longest prefix. */
const LAYERS: readonly (readonly [name: string, paths: readonly string[]])[] = [
  ["ground", ["src/awaitable.ts", "src/errors.ts", "src/clock.ts", "src/certificate-file.ts"]],
  ["observability: logs and metrics", ["src/observability/"]],
  ["ocsp: the wire format", ["src/ocsp/"]],
  ["signing", ["src/signing/"]],
  ["pki", ["src/pki/"]],
  ["billing", ["src/billing/"]],
  ["status: revocation sources", ["src/status/"]],
  ["trust: the validation process", ["src/trust/"]],
  ["issuers: the issuers a responder serves", ["src/issuers/"]],
  ["responses: whole signed responses", ["src/responses/"]],
  ["forwarding", ["src/forwarding/"]],
  ["pipeline: the SPEC steps", ["src/pipeline/"]],
  ["operations: readiness, request metrics, the admin listener", ["src/operations/"]],
  ["http", ["src/http/"]],
  ["config", ["src/config/"]],
  ["compose: the composition root", ["src/compose/"]],
  ["cli", ["src/cli/"]],
  ["main", ["src/main.ts"]],
];

/** Upward imports still to be removed, as "importer -> imported": none; keep it that way. */
const KNOWN_UPWARD: ReadonlySet<string> = new Set<string>([]);

const root = join(import.meta.dirname, "..");

function layerOf(path: string): number {
  let best = -1;
  let bestLength = -1;
  LAYERS.forEach(([, paths], index) => {
    for (const prefix of paths) {
      const matches = prefix.endsWith("/") ? path.startsWith(prefix) : path === prefix;
      if (matches && prefix.length > bestLength) [best, bestLength] = [index, prefix.length];
    }
  });
  return best;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === "test-support" ? [] : sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.(test|contract)\.ts$/.test(entry.name) ? [path] : [];
  });
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
const problems: string[] = [];
for (const file of sourceFiles("src")) {
  const own = layerOf(file);
  if (own === -1) {
    problems.push(`${file}: in no layer (add it to LAYERS in scripts/check-layers.ts)`);
    continue;
  }
  for (const [, specifier] of readFileSync(join(root, file), "utf8").matchAll(IMPORT)) {
    const target = relative(root, normalize(join(root, dirname(file), specifier!)));
    const theirs = layerOf(target);
    if (theirs > own && !KNOWN_UPWARD.has(`${file} -> ${target}`)) {
      problems.push(`${file} (${LAYERS[own]![0]}) imports ${target} (${LAYERS[theirs]![0]}): an import that runs upward`);
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
