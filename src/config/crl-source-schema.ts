import { z } from "zod";
import { databaseLocation, filePath } from "./config-paths.ts";
import { isCrlUrl } from "../status/crl/crl-location.ts";
import { positiveDurationOr } from "./duration-schema.ts";

/**
 * The `crl` revocation source: CRL files, and URLs where the CA publishes its CRLs (http, https),
 * fetched on a schedule into a state folder; LDAP URLs as CRL distribution points name them,
 * `ldap://host/cn=CA,o=Example?certificateRevocationList;binary` (README "CRLs from URLs").
 */

const crlUrl = z.string().refine(isCrlUrl, "must be an http://, https://, ldap:// or ldaps:// URL");

/** How a source's URLs are fetched. */
export const crlFetchSchema = z
  .object({
    /** Folder (writable by vouch) keeping the last good CRL of each URL, answered from at start while the CA's site is down. */
    stateFolder: filePath,
    /** Look for the next CRL this long before the held one's nextUpdate. */
    margin: positiveDurationOr("PT1H"),
    /** The longest wait between two fetches, whatever nextUpdate says. */
    maxInterval: positiveDurationOr("PT1H"),
    /** The first retry after a failed fetch; each further one waits twice as long (with jitter), up to `maxRetryInterval`. */
    retryInterval: positiveDurationOr("PT30S"),
    maxRetryInterval: positiveDurationOr("PT15M"),
    /** One fetch, connection to last byte. */
    timeout: positiveDurationOr("PT60S"),
    /** The largest CRL accepted, in bytes. */
    maxBytes: z.number().int().min(1024).default(512 * 1024 * 1024),
    /** CA certificates (PEM) that https and ldaps servers must chain to; default: the system's. */
    caFile: filePath.optional(),
  })
  .strict();

/**
 * What the CA issued, so that a serial it never issued is "not-issued" (the responder's non-issued
 * policy) instead of the CRL's "good": a folder of its certificates (PEM or DER, watched), or the SQL
 * status store's issued rows (`vouch store add` / `import-certs`).
 */
const knownSerialsSchema = z
  .object({
    folder: filePath.optional(),
    /** An SQLite file or a postgres:// URL, as an sql source's. */
    database: databaseLocation(z.string().min(1, "must be an SQLite file path or a postgres:// URL")).optional(),
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,47}$/, "use at most 48 lower-case letters, digits and '_'").default("vouch"),
    /** How often the folder or store is looked at again (a folder is also watched; PostgreSQL also notifies). */
    pollInterval: positiveDurationOr("PT10S"),
  })
  .strict()
  .superRefine((known, context) => {
    if ((known.folder === undefined) === (known.database === undefined)) context.addIssue({ code: "custom", path: [], message: "name either folder or database" });
  });

export const crlSourceSchema = z
  .object({
    type: z.literal("crl"),
    /** Full and delta CRLs, PEM or DER, re-read when they change. */
    files: z.array(filePath).default([]),
    /** A folder holding many CAs' CRLs: this issuer takes the files whose CRL it issued (looked at again on each poll: files that join or leave it are taken or let go; changed files are re-read). */
    folder: filePath.optional(),
    /** Where the CA publishes its CRLs; mixed with `files` in one source. */
    urls: z.array(crlUrl).default([]),
    /**
     * URLs of lists of many CAs' CRLs (a text file, one CRL URL per line, or a web server's directory
     * index), refetched on the schedule: this issuer fetches the listed CRLs it issued, as `urls`.
     */
    lists: z.array(z.string().regex(/^https?:\/\/[^\s]+$/i, "must be an http:// or https:// URL")).default([]),
    fetch: crlFetchSchema.optional(),
    knownSerials: knownSerialsSchema.optional(),
    pollInterval: positiveDurationOr("PT1S"),
  })
  .strict()
  .superRefine((source, context) => {
    if (source.files.length + source.urls.length + source.lists.length === 0 && source.folder === undefined) {
      context.addIssue({ code: "custom", path: ["files"], message: "at least one CRL file, folder, URL or list is required" });
    }
    if (source.urls.length + source.lists.length > 0 && source.fetch === undefined) context.addIssue({ code: "custom", path: ["fetch"], message: "is required with urls and lists (stateFolder at least)" });
  });

export type CrlFetchConfig = z.infer<typeof crlFetchSchema>;

