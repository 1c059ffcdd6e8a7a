/**
 * A CRL from an LDAP directory (ldap://, ldaps://), as CRL distribution points name it (RFC 4516:
 * `ldap://host/cn=CA,o=Example?certificateRevocationList;binary`): an anonymous base-object search
 * for the attribute, with ldapts. LDAP has no conditional request, so an unchanged CRL is told by its
 * bytes' hash (url-feed.ts); the connection is bounded in time and in the bytes it may receive.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import type { connect as tlsConnect } from "node:tls";
import type { Client } from "ldapts";
import type { FetchLimits, FetchOutcome } from "./fetch-types.ts";

/** The attribute a CA's directory entry holds its CRL in (RFC 4523), when the URL names none. */
const DEFAULT_ATTRIBUTE = "certificateRevocationList;binary";

/** What an LDAP URL asks for: where, the entry and the attribute. */
export interface LdapCrlLocation {
  /** Scheme, host and port only, as ldapts takes it. */
  readonly server: string;
  readonly dn: string;
  readonly attribute: string;
}

/** Reads an LDAP URL (RFC 4516). Throws an Error naming the problem when it names no entry. */
function ldapCrlLocation(url: URL): LdapCrlLocation {
  const dn = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (dn === "") throw new Error("an LDAP URL must name the CA's entry (ldap://host/cn=CA,o=Example)");
  const attributes = decodeURIComponent(url.search.replace(/^\?/, "").split("?")[0] ?? "");
  const attribute = attributes.split(",")[0]?.trim() || DEFAULT_ATTRIBUTE;
  return { server: `${url.protocol}//${url.host}`, dn, attribute };
}

/**
 * Reads the CRL at `url` into `file`. Resolves `fetched` with the bytes' SHA-256. Rejects with an
 * Error naming the problem when the server cannot be reached, the entry or attribute is missing,
 * the answer is over `limits.maxBytes` or later than `limits.timeoutMs`; `cancel` stops it.
 */
export async function ldapFetch(url: URL, file: string, limits: FetchLimits, cancel?: AbortSignal): Promise<FetchOutcome> {
  const location = ldapCrlLocation(url);
  // Every octet the server sends is counted: a directory that answers with more than a CRL may hold is cut off.
  let received = 0;
  const bounded = <T extends Socket>(socket: T): T => {
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBytes + 64 * 1024) socket.destroy(new Error(`the answer is over the limit of ${limits.maxBytes} bytes`));
    });
    return socket;
  };
  // Loaded on the first LDAP fetch: a process that fetches no LDAP URL never loads the library.
  const { Client: LdapClient } = await import("ldapts");
  const client = new LdapClient({
    url: location.server,
    timeout: limits.timeoutMs,
    connectTimeout: limits.timeoutMs,
    ...(limits.ca === undefined ? {} : { tlsOptions: { ca: limits.ca } }),
    createConnection: ((...args: Parameters<typeof netConnect>) => bounded(netConnect(...args))) as typeof netConnect,
    createSecureConnection: ((...args: Parameters<typeof tlsConnect>) => bounded(process.getBuiltinModule("node:tls").connect(...args))) as typeof tlsConnect,
  });
  const stop = (): void => void client.unbind().catch(() => {});
  cancel?.addEventListener("abort", stop, { once: true });
  const deadline = setTimeout(stop, limits.timeoutMs);
  try {
    let searchEntries: Awaited<ReturnType<Client["search"]>>["searchEntries"];
    try {
      ({ searchEntries } = await client.search(location.dn, {
        scope: "base",
        filter: "(objectClass=*)",
        attributes: [location.attribute],
        explicitBufferAttributes: [location.attribute],
        sizeLimit: 1,
        timeLimit: Math.max(1, Math.ceil(limits.timeoutMs / 1000)),
      }));
    } catch (error) {
      throw new Error(`LDAP search of ${location.dn}: ${error instanceof Error ? `${error.name} ${error.message}`.trim() : String(error)}`, { cause: error });
    }
    if (cancel?.aborted === true) throw new Error("cancelled");
    const entry = searchEntries[0];
    if (entry === undefined) throw new Error(`no entry ${location.dn}`);
    const key = Object.keys(entry).find((name) => name.toLowerCase() === location.attribute.toLowerCase());
    const value = key === undefined ? undefined : entry[key];
    const crl = Array.isArray(value) ? value[0] : value;
    if (!Buffer.isBuffer(crl) || crl.length === 0) throw new Error(`entry ${location.dn} has no ${location.attribute}`);
    if (crl.length > limits.maxBytes) throw new Error(`the CRL is ${crl.length} bytes, over the limit of ${limits.maxBytes}`);
    await writeFile(file, crl);
    return { kind: "fetched", sha256: createHash("sha256").update(crl).digest("hex"), validators: {} };
  } finally {
    clearTimeout(deadline);
    cancel?.removeEventListener("abort", stop);
    await client.unbind().catch(() => {});
  }
}
