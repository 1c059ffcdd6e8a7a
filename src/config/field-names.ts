/**
 * What a misspelt configuration field was meant to be: the field names the schema allows where the
 * unknown one stands, and the closest of them. `isuers` under a responder gives `issuers`, so the
 * error says `unknown field "isuers" (did you mean "issuers"?)` instead of `issuers: is required`.
 */
import type { z } from "zod";

/** The parts of a zod schema's definition that lead to the object fields below it. */
interface WalkedDef {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly element?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

const definition = (schema: z.ZodType): WalkedDef => (schema as unknown as { _zod: { def: WalkedDef } })._zod.def;

/**
 * The field names the object at `path` (a zod issue path) allows, through arrays, optional and
 * default wrappers, transforms and unions (every option's fields). Empty when the path leads to no
 * object.
 */
export function fieldNamesAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType[] = [schema];
  for (const part of path) current = current.flatMap((candidate) => objects(candidate)).flatMap((candidate) => step(candidate, part));
  return [...new Set(current.flatMap((candidate) => objects(candidate)).flatMap((object) => Object.keys(definition(object).shape ?? {})))];
}

/** The object schemas `schema` stands for, looking through wrappers and unions. */
function objects(schema: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 16) return [];
  const def = definition(schema);
  if (def.type === "object" || def.type === "array") return [schema];
  if (def.innerType !== undefined) return objects(def.innerType, depth + 1);
  if (def.type === "pipe" && def.in !== undefined) return objects(def.in, depth + 1);
  if (def.type === "union" && def.options !== undefined) return def.options.flatMap((option) => objects(option, depth + 1));
  return [];
}

function step(schema: z.ZodType, part: PropertyKey): z.ZodType[] {
  const def = definition(schema);
  if (typeof part === "number") return def.type === "array" && def.element !== undefined ? [def.element] : [];
  const field = def.type === "object" ? def.shape?.[String(part)] : undefined;
  return field === undefined ? [] : [field];
}

/**
 * The name in `names` closest to `unknown` (case ignored), when it is close enough to be a slip: at
 * most one edit in four letters (two for "isuers" → "issuers", "billng" → "billing"). Undefined
 * otherwise.
 */
export function closestName(unknown: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(unknown.toLowerCase(), name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(1, Math.floor(Math.max(unknown.length, best.name.length) / 4)) ? best.name : undefined;
}

/** Levenshtein distance, with a swap of two neighbouring letters counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}
