/**
 * Where a download is written before it is renamed into place. Issuers that share a name (a
 * re-keyed CA) may each have a feed for the same URL, and the workers of an instance share the
 * state folder, so the name carries the pid and random octets: unique without a counter kept in
 * module state.
 */
import { randomBytes } from "node:crypto";

export function partFileFor(target: string): string {
  return `${target}.${process.pid}.${randomBytes(6).toString("hex")}.part`;
}
