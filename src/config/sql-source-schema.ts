import { z } from "zod";
import { databaseLocation } from "./config-paths.ts";
import { parseDuration } from "./duration.ts";

/**
 * The `sql` revocation source (docs/sql-store.md): statuses from the SQL status store that
 * `vouch store` manages, in an SQLite file or PostgreSQL.
 */
export const sqlSourceSchema = z
  .object({
    type: z.literal("sql"),
    /** An SQLite file (relative to the configuration file's folder), or a postgres:// URL. */
    database: databaseLocation(z.string().min(1, "must be an SQLite file path or a postgres:// URL")),
    /** PostgreSQL only: the schema holding the store's tables. */
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,47}$/, "use at most 48 lower-case letters, digits and '_'").default("vouch"),
    /** How often the source looks for changes (PostgreSQL changes also arrive at once by NOTIFY). */
    pollInterval: z
      .string()
      .default("PT1S")
      .transform((text, context) => {
        const milliseconds = parseDuration(text);
        if (milliseconds === undefined || milliseconds < 10) {
          context.addIssue({ code: "custom", message: `"${text}" is not an ISO 8601 duration of at least 10 ms, such as PT1S` });
          return z.NEVER;
        }
        return milliseconds;
      }),
    /**
     * How long the source may go without confirming it is current (a refresh that succeeded) before
     * its answers are tryLater; its answers carry nextUpdate = last confirmation + this. Default: the
     * issuer's responseValidity.
     */
    maxStaleness: z
      .string()
      .optional()
      .transform((text, context) => {
        if (text === undefined) return undefined;
        const milliseconds = parseDuration(text);
        if (milliseconds === undefined || milliseconds < 1000) {
          context.addIssue({ code: "custom", message: `"${text}" is not an ISO 8601 duration of at least 1 s, such as PT5M` });
          return z.NEVER;
        }
        return milliseconds;
      }),
  })
  .strict();
