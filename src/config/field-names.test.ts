import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { closestName, fieldNamesAt } from "./field-names.ts";
import { parseConfig } from "./load.ts";
import { configSchema } from "./schema.ts";

const responder = (fields: string) => `responders:
  - name: r
    listen: { port: 0 }
${fields}`;
const ISSUERS = `    issuers:
      - certificate: ca.pem
        signer: { key: k.pem }
        sources: [{ type: index, file: index.txt }]
`;

function refusal(text: string): { field: string; message: string } {
  try {
    parseConfig(text, "/etc/vouch/vouch.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return { field: error.field, message: error.message };
  }
  assert.fail("the configuration was accepted");
}

describe("configuration errors name what was meant", () => {
  const cases: [name: string, text: string, field: string, message: string][] = [
    ["a misspelt required field", responder(ISSUERS.replace("issuers:", "isuers:")), "responders[0]", 'unknown field "isuers" (did you mean "issuers"?)'],
    ["a misspelt optional field", responder(`${ISSUERS}    billng: { sink: file, directory: b }\n`), "responders[0]", 'unknown field "billng" (did you mean "billing"?)'],
    ["two swapped letters, deeper down", responder(`${ISSUERS}    tls: { certificate: c.pem, key: k.pem, clientAuht: required }\n`), "responders[0].tls", 'unknown field "clientAuht" (did you mean "clientAuth"?)'],
    ["inside a list of sources (a union)", responder(ISSUERS.replace("file: index.txt", "file: index.txt, polInterval: PT5S")), "responders[0].issuers[0].sources[0]", 'unknown field "polInterval" (did you mean "pollInterval"?)'],
    ["nothing close: the allowed names are listed", responder(`${ISSUERS}    colour: blue\n`).replace("listen: { port: 0 }", "listen: { port: 0, colour: blue }"), "responders[0].listen", 'unknown field "colour"; allowed here: host, port'],
    ["a wrong value is not a missing one", responder(ISSUERS).replace("port: 0", 'port: "eighty"'), "responders[0].listen.port", 'must be a number, not "eighty"'],
    ["a missing field is still required", responder(ISSUERS).replace("    listen: { port: 0 }\n", ""), "responders[0].listen", "is required"],
  ];
  for (const [name, text, field, message] of cases) {
    test(name, () => assert.deepEqual(refusal(text), { field, message }));
  }
});

describe("fieldNamesAt and closestName", () => {
  test("walk objects, lists, optional wrappers and unions", () => {
    assert.deepEqual(fieldNamesAt(configSchema, ["admin", "listen"]).sort(), ["host", "port"]);
    assert.ok(fieldNamesAt(configSchema, ["responders", 0, "issuers", 0, "sources", 0]).includes("pollInterval"));
    assert.deepEqual(fieldNamesAt(configSchema, ["nowhere", 3]), []);
  });
  test("a slip of an edit or two matches; a different word does not", () => {
    assert.equal(closestName("isuers", ["issuers", "tls"]), "issuers");
    assert.equal(closestName("Issuers", ["issuers"]), "issuers");
    assert.equal(closestName("colour", ["host", "port"]), undefined);
    assert.equal(closestName("x", []), undefined);
  });
});
