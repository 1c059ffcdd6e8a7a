/**
 * Paths in the configuration: the schema says which fields are paths (they are built from the
 * schemas below), and one walk along the schema resolves every relative one against the
 * configuration file's folder. A new path field is resolved by being declared with `filePath` (or
 * another of these), not by a second list of fields to keep in step with the schema.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { isPostgresUrl } from "../status/sql/database-url.ts";
import { isCrlUrl } from "../status/crl/crl-location.ts";

/**
 * How a path field is resolved: `file`, always; `program`, only when it names a path (contains '/';
 * a bare name is searched by the system); `command`, the program of a command line (its first word,
 * as `program`); `database`, an SQLite file, but not a postgres:// URL; `crl`, a CRL file, but not a
 * URL to fetch it from.
 */
type PathKind = "file" | "program" | "command" | "database" | "crl";

const pathFields = z.registry<{ readonly path: PathKind }>();

function declarePath<S extends z.ZodType>(schema: S, path: PathKind): S {
  pathFields.add(schema as z.ZodType, { path });
  return schema;
}

/** A file or folder, relative to the configuration file's folder. */
export const filePath = declarePath(z.string().min(1, "must name a file"), "file");

/** A program or library: a path containing '/' is resolved; a bare name is left to the system's search. */
export function programPath<S extends z.ZodType<string>>(schema: S): S {
  return declarePath(schema, "program");
}

/** A command line (program and arguments, no shell): its program is resolved as `programPath`. */
export function commandLine<S extends z.ZodType<string[]>>(schema: S): S {
  return declarePath(schema, "command");
}

/** An SQLite file (resolved) or a postgres:// URL (kept). */
export function databaseLocation<S extends z.ZodType<string>>(schema: S): S {
  return declarePath(schema, "database");
}

/** A CRL file (resolved) or a URL it is fetched from (kept). */
export function crlLocation<S extends z.ZodType<string>>(schema: S): S {
  return declarePath(schema, "crl");
}

/** The parts of a zod schema's definition the walk follows. */
interface WalkedDef {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly element?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly discriminator?: string;
  readonly values?: readonly unknown[];
}

const definition = (schema: z.ZodType): WalkedDef => (schema as unknown as { _zod: { def: WalkedDef } })._zod.def;

/**
 * `value` (what `schema` parsed) with every path field's relative path resolved against `base`:
 * through objects, lists, optional and default wrappers, pipes and discriminated unions.
 */
export function resolveConfigPaths<T>(schema: z.ZodType<T>, value: T, base: string): T {
  return walk(schema, value, (path) => (isAbsolute(path) ? path : resolve(base, path))) as T;
}

function walk(schema: z.ZodType, value: unknown, at: (path: string) => string): unknown {
  if (value === undefined || value === null) return value;
  const kind = pathFields.get(schema)?.path;
  if (kind !== undefined) return resolvePath(kind, value, at);
  const def = definition(schema);
  switch (def.type) {
    case "object": {
      const object = value as Record<string, unknown>;
      const resolved: Record<string, unknown> = { ...object };
      for (const [key, field] of Object.entries(def.shape ?? {})) if (key in object) resolved[key] = walk(field, object[key], at);
      return resolved;
    }
    case "array":
      return (value as unknown[]).map((item) => walk(def.element!, item, at));
    case "pipe":
      // A transform's output is no longer what its input schema describes: only a pipe into a schema is followed.
      return definition(def.out!).type === "transform" ? walk(def.in!, value, at) : walk(def.out!, value, at);
    case "union": {
      const option = def.discriminator === undefined ? undefined : def.options?.find((candidate) => matches(candidate, def.discriminator!, value));
      return option === undefined ? value : walk(option, value, at);
    }
    default:
      return def.innerType === undefined ? value : walk(def.innerType, value, at);
  }
}

/** Whether the discriminated union's `option` is the one `value` was parsed by. */
function matches(option: z.ZodType, discriminator: string, value: unknown): boolean {
  const field = definition(option).shape?.[discriminator];
  return field !== undefined && (definition(field).values ?? []).includes((value as Record<string, unknown>)[discriminator]);
}

function resolvePath(kind: PathKind, value: unknown, at: (path: string) => string): unknown {
  switch (kind) {
    case "file":
      return at(value as string);
    case "program":
      return (value as string).includes("/") ? at(value as string) : value;
    case "command": {
      const [program, ...args] = value as string[];
      return program === undefined ? value : [resolvePath("program", program, at), ...args];
    }
    case "database":
      return isPostgresUrl(value as string) ? value : at(value as string);
    case "crl":
      return isCrlUrl(value as string) ? value : at(value as string);
  }
}
