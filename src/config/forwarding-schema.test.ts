import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { parseConfig } from "./load.ts";

const config = (forwarding: string) => `responders:
  - name: front
    listen: { port: 0 }
    forwarding: ${forwarding}
    issuers:
      - certificate: ca.pem
        signer: { key: ca.key }
        sources: [{ type: index, file: index.txt }]
`;

const forwardingOf = (forwarding: string) => parseConfig(config(forwarding), "/etc/vouch/vouch.yaml").responders[0]!.forwarding!;

function refusal(forwarding: string): string {
  try {
    parseConfig(config(forwarding), "/etc/vouch/vouch.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return `${error.field}: ${error.message}`;
  }
  assert.fail("accepted");
}

describe("the forwarding configuration", () => {
  test("defaults: signature checked, unknown passed on, 2 s per attempt, one retry, breaker 5 failures / 30 s", () => {
    const forwarding = forwardingOf(`{ methods: [table], table: [{ issuer: "cn=CA01,o=Acme,c=SE", url: "http://ocsp.acme.example/" }] }`);
    assert.deepEqual(forwarding, {
      methods: ["table"],
      table: [{ issuer: "cn=CA01,o=Acme,c=SE", url: "http://ocsp.acme.example/" }],
      allowedUrls: [],
      checks: { verifySignature: true, signerCertificates: [], nonce: "required", allowUnknown: true, clockSkew: 300_000 },
      timeout: 2_000,
      retries: 1,
      breaker: { failures: 5, coolDown: 30_000 },
      maxResponseBytes: 65_536,
    });
  });

  test("signer certificate files are resolved against the configuration's folder", () => {
    const forwarding = forwardingOf(`{ methods: [fromcert], allowedUrls: ["http://ocsp.acme.example/*"], checks: { signerCertificates: [remote.pem, /abs/other.pem] } }`);
    assert.deepEqual(forwarding.checks.signerCertificates, ["/etc/vouch/remote.pem", "/abs/other.pem"]);
  });

  const refused: [string, string, RegExp][] = [
    ["no method", "{ methods: [] }", /^responders\[0\]\.forwarding\.methods: name at least one method/],
    ["an unknown method", "{ methods: [dns] }", /^responders\[0\]\.forwarding\.methods\[0\]: /],
    ["a method twice", "{ methods: [fromcert, fromcert] }", /^responders\[0\]\.forwarding\.methods: a method is listed twice/],
    ["table without rows", "{ methods: [table] }", /^responders\[0\]\.forwarding\.table: the table method needs at least one row/],
    ["servicelocator without allowedUrls", "{ methods: [servicelocator] }", /^responders\[0\]\.forwarding\.allowedUrls: the servicelocator method needs allowedUrls/],
    ["fromcert without allowedUrls", "{ methods: [fromcert] }", /^responders\[0\]\.forwarding\.allowedUrls: the fromcert method needs allowedUrls/],
    ["an allowedUrls prefix that could reach other hosts", `{ methods: [fromcert], allowedUrls: ["http://ok.example/", "https://ocsp.acme.example*"] }`, /^responders\[0\]\.forwarding\.allowedUrls\[1\]: "https:\/\/ocsp\.acme\.example\*": a prefix must reach/],
    ["a * inside an allowedUrls pattern", `{ methods: [fromcert], allowedUrls: ["https://*.acme.example/"] }`, /^responders\[0\]\.forwarding\.allowedUrls\[0\]: .*may only end a pattern/],
    ["the old serviceLocatorAllow", `{ methods: [table], table: [{ issuer: "*", url: "http://x/" }], serviceLocatorAllow: ["http://x/"] }`, /^responders\[0\]\.forwarding\.serviceLocatorAllow: replaced by allowedUrls/],
    ["a URL that is not http(s)", `{ methods: [table], table: [{ issuer: "*", url: "ftp://x/" }] }`, /^responders\[0\]\.forwarding\.table\[0\]\.url: must be an http/],
    ["a URL with credentials", `{ methods: [table], table: [{ issuer: "*", url: "http://u:p@x/" }] }`, /^responders\[0\]\.forwarding\.table\[0\]\.url: .*without credentials/],
    ["a zero timeout", '{ methods: [fromcert], allowedUrls: ["http://x/*"], timeout: PT0S }', /^responders\[0\]\.forwarding\.timeout: "PT0S" is not a positive/],
    ["an unknown field", "{ methods: [table], table: [{ issuer: \"*\", url: \"http://x/\" }], colour: blue }", /^responders\[0\]\.forwarding: unknown field "colour"/],
  ];
  for (const [name, forwarding, expected] of refused) {
    test(`refused: ${name}`, () => assert.match(refusal(forwarding), expected));
  }
});
