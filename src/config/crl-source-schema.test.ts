import assert from "node:assert/strict";
import { test } from "node:test";
import { crlSourceSchema } from "./crl-source-schema.ts";

const problems = (source: Record<string, unknown>): string[] => {
  const parsed = crlSourceSchema.safeParse({ type: "crl", ...source });
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
};

test("a crl source may name only CRL lists, with a fetch block", () => {
  assert.deepEqual(problems({ lists: ["https://pki.example/crls/"], fetch: { stateFolder: "/var/lib/vouch/crls" } }), []);
  const parsed = crlSourceSchema.parse({ type: "crl", files: ["ca.crl"] });
  assert.deepEqual(parsed.lists, []);
});

test("CRL lists need a fetch block and an http or https URL", () => {
  assert.deepEqual(problems({ lists: ["https://pki.example/crls/"] }), ["fetch: is required with urls and lists (stateFolder at least)"]);
  assert.deepEqual(problems({ lists: ["ldap://ldap.example/cn=CRLs"], fetch: { stateFolder: "/var/lib/vouch/crls" } }), ["lists.0: must be an http:// or https:// URL"]);
});

test("a crl source with nothing to read is refused, lists counted", () => {
  assert.deepEqual(problems({}), ["files: at least one CRL file, folder, URL or list is required"]);
});
