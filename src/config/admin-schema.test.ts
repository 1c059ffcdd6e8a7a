import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../errors.ts";
import { parseConfig } from "./load.ts";

const RESPONDERS = `responders:
  - name: r
    listen: { port: 0 }
    issuers:
      - certificate: ca.pem
        signer: { key: ca.key }
        sources: [{ type: index, file: index.txt }]
`;

test("admin is optional; when given, host defaults to loopback and the signer test interval to 5 s", () => {
  assert.equal(parseConfig(RESPONDERS, "/etc/vouch/vouch.yaml").admin, undefined);
  const config = parseConfig(`admin: { listen: { port: 9100 } }\n${RESPONDERS}`, "/etc/vouch/vouch.yaml");
  assert.deepEqual(config.admin, { listen: { host: "127.0.0.1", port: 9100 }, readiness: { signerTestInterval: 5000 } });
});

test("bad admin settings name their field", () => {
  const cases: [string, string, RegExp][] = [
    ["admin: { listen: { port: 70000 } }", "admin.listen.port", /65535/],
    ["admin: { listen: { host: 0.0.0.0 } }", "admin.listen.port", /required/],
    ["admin: { listen: { port: 1 }, metrics: true }", "admin", /unknown field "metrics"/],
    ["admin: { listen: { port: 1 }, readiness: { signerTestInterval: 5s } }", "admin.readiness.signerTestInterval", /ISO 8601/],
  ];
  for (const [yaml, field, message] of cases) {
    assert.throws(
      () => parseConfig(`${yaml}\n${RESPONDERS}`, "/etc/vouch/vouch.yaml"),
      (error: unknown) => error instanceof ConfigError && error.field === field && message.test(error.message),
      yaml,
    );
  }
});
