import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { parseUrlPattern, urlAllowList } from "./url-pattern.ts";

describe("forwarding.allowedUrls patterns", () => {
  const matching: [string, string, boolean][] = [
    ["http://ocsp.acme.example/", "http://ocsp.acme.example/", true],
    ["http://ocsp.acme.example", "http://ocsp.acme.example/", true],
    ["HTTP://OCSP.Acme.Example:80/", "http://ocsp.acme.example/", true],
    ["http://ocsp.acme.example/", "http://ocsp.acme.example/ocsp", false],
    ["http://ocsp.acme.example/", "https://ocsp.acme.example/", false],
    ["http://ocsp.acme.example/", "http://ocsp.acme.example:8080/", false],
    ["https://ocsp.acme.example/*", "https://ocsp.acme.example/ca1/ocsp", true],
    ["https://ocsp.acme.example/*", "https://ocsp.acme.example.evil.test/", false],
    ["https://ocsp.acme.example/*", "https://ocsp.acme.example:444/", false],
    ["https://ocsp.acme.example/*", "https://user@ocsp.acme.example/", false],
    ["http://10.1.2.3:8080/ocsp/*", "http://10.1.2.3:8080/ocsp/a", true],
    ["http://10.1.2.3:8080/ocsp/*", "http://10.1.2.3:8080/ocsp/../admin", false],
    ["http://10.1.2.3:8080/ocsp/*", "http://10.1.2.3:8080/admin", false],
  ];
  for (const [pattern, url, expected] of matching) {
    test(`${pattern} ${expected ? "allows" : "does not allow"} ${url}`, () => {
      assert.equal(urlAllowList([pattern], "allowedUrls").allows(new URL(url)), expected);
    });
  }

  const refused: [string, RegExp][] = [
    ["https://ocsp.acme.example*", /must reach the "\/" after the host/],
    ["https://*.acme.example/", /may only end a pattern/],
    ["https://ocsp.acme.example/*/x", /may only end a pattern/],
    ["ftp://ocsp.acme.example/", /http:\/\/ or https:\/\//],
    ["ocsp.acme.example/*", /http:\/\/ or https:\/\//],
    ["https://user:secret@ocsp.acme.example/", /credentials/],
    ["https://ocsp.acme.example/#x", /fragment/],
    ["*", /http:\/\/ or https:\/\//],
  ];
  for (const [pattern, problem] of refused) {
    test(`refuses ${pattern}`, () => {
      const parsed = parseUrlPattern(pattern);
      assert.ok(!parsed.ok);
      assert.match(parsed.problem, problem);
      assert.throws(() => urlAllowList(["http://ok.example/", pattern], "allowedUrls"), (error: unknown) => error instanceof ConfigError && error.field === "allowedUrls[1]");
    });
  }

  test("an empty list allows nothing", () => {
    assert.equal(urlAllowList([], "allowedUrls").allows(new URL("http://ocsp.acme.example/")), false);
  });
});
