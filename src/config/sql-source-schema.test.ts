import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../errors.ts";
import { parseConfig } from "./load.ts";

const withSql = (fields: string) => `responders:
  - name: r
    listen: { port: 0 }
    issuers:
      - certificate: ca.pem
        signer: { key: ca.key }
        sources: [{ type: sql, database: status.db${fields} }]
`;

const sqlSource = (yaml: string) => parseConfig(yaml, "/etc/vouch/vouch.yaml").responders[0]!.issuers[0]!.sources[0]!;

test("sql source: maxStaleness is optional (the issuer's responseValidity applies) and read as milliseconds", () => {
  assert.deepEqual(sqlSource(withSql("")), { type: "sql", database: "/etc/vouch/status.db", schema: "vouch", pollInterval: 1000 });
  assert.equal((sqlSource(withSql(", maxStaleness: PT5M")) as { maxStaleness?: number }).maxStaleness, 300_000);
});

test("sql source: a maxStaleness under a second, or not a duration, names its field", () => {
  for (const value of ["PT0.5S", "5m", "PT0S"]) {
    assert.throws(
      () => parseConfig(withSql(`, maxStaleness: ${value}`), "/etc/vouch/vouch.yaml"),
      (error: unknown) => error instanceof ConfigError && error.field === "responders[0].issuers[0].sources[0].maxStaleness" && /at least 1 s/.test(error.message),
      value,
    );
  }
});
