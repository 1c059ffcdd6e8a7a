import { z } from "zod";
import { filePath } from "./config-paths.ts";

/**
 * `log.access`: one JSON line per OCSP request (docs/observability.md "Access log"). Off when absent.
 * The file is reopened by every reload (SIGHUP after a log rotation).
 */
export const accessLogSchema = z
  .object({
    /** stdout (with the server's log lines), or file (`file`, appended to). */
    output: z.enum(["stdout", "file"]).default("stdout"),
    /** With output file: the file, created when missing (and its folder). */
    file: filePath.optional(),
    /** The share of requests logged, 0 < sample ≤ 1: 0.01 logs one request in a hundred (default 1: every one). */
    sample: z.number().gt(0, "must be more than 0 (leave out log.access to turn the access log off)").max(1).default(1),
  })
  .strict()
  .superRefine((access, context) => {
    if (access.output === "file" && access.file === undefined) context.addIssue({ code: "custom", path: ["file"], message: "output: file needs a file" });
    if (access.output === "stdout" && access.file !== undefined) context.addIssue({ code: "custom", path: ["output"], message: "a file is set: use output: file" });
  });

