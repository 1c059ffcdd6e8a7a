import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { closestName, fieldNamesAt } from "./field-names.ts";
import { resolveConfigPaths } from "./config-paths.ts";
import { configSchema, type Config } from "./schema.ts";

/**
 * Reads and validates a configuration file. Relative paths inside it are resolved against its folder.
 * Throws ConfigError naming the file, the field path and the problem.
 */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError("", `cannot read the configuration file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { file, cause: error });
  }
  return parseConfig(text, file);
}

/** Validates configuration text; `file` names it in errors and anchors relative paths. */
export function parseConfig(text: string, file: string): Config {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const yamlError = document.errors[0];
  if (yamlError !== undefined) {
    const line = yamlError.linePos?.[0];
    const where = line === undefined ? "" : `line ${line.line}, column ${line.col}`;
    throw new ConfigError(where, `not valid YAML: ${yamlError.message.split("\n")[0]}`, { file });
  }
  // reportInput: a wrong value (`port: "x"`) must not be reported as a missing one.
  const result = configSchema.safeParse(document.toJS(), { reportInput: true });
  if (!result.success) {
    // A misspelt field shows up twice, as unknown and as missing: the unknown one says what happened.
    const issues = result.error.issues;
    const issue = issues.find((candidate) => candidate.code === "unrecognized_keys") ?? issues[0]!;
    throw new ConfigError(fieldPath(issue.path), describeIssue(issue), { file });
  }
  return resolveConfigPaths(configSchema, result.data, dirname(resolve(file)));
}

/** `responders[0].issuers[1].signer.key` */
function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`))
    .join("");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    const allowed = fieldNamesAt(configSchema, issue.path);
    const named = issue.keys.map((key) => {
      const meant = closestName(key, allowed);
      return meant === undefined ? `"${key}"` : `"${key}" (did you mean "${meant}"?)`;
    });
    const unknown = `unknown field${issue.keys.length > 1 ? "s" : ""} ${named.join(", ")}`;
    return named.some((name) => name.includes("did you mean")) || allowed.length === 0 ? unknown : `${unknown}; allowed here: ${allowed.join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.input === undefined) return "is required";
  if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input")) return `must be ${kindOf(issue.expected)}, not ${shown(issue.input)}`;
  return issue.message;
}

function kindOf(expected: string): string {
  return expected === "array" ? "a list" : expected === "object" ? "a mapping" : `a ${expected}`;
}

/** A wrong value, briefly: strings quoted and cut at 40 characters, structures by their kind. */
function shown(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
