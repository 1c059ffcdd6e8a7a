import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { parseConfig } from "./load.ts";

function yaml(type: string, cache: string): string {
  return `responders:
  - name: r
    type: ${type}
    listen: { port: 0 }
    issuers:
      - certificate: ca.pem
        signer: { key: ca.key }
        sources: [{ type: index, file: index.txt }]
    responseCache:
${cache}
`;
}

function fails(text: string, field: string, message: RegExp): void {
  assert.throws(
    () => parseConfig(text, "/etc/vouch/vouch.yaml"),
    (error: unknown) => error instanceof ConfigError && error.field === field && message.test(error.message),
  );
}

describe("responseCache configuration", () => {
  test("defaults, and durations in milliseconds", () => {
    const config = parseConfig(
      yaml("cached", `      issuers:\n        - { issuer: "cn=*,o=Acme,c=SE", expiresAfter: PT1H, renew: { margin: PT5M }, preProduce: {} }\n      redis: { url: "redis://127.0.0.1:6379" }`),
      "/etc/vouch/vouch.yaml",
    );
    const cache = config.responders[0]!.responseCache!;
    assert.equal(cache.maxCount, 100_000);
    assert.equal(cache.maxBytes, 256 * 1024 * 1024);
    assert.deepEqual(cache.issuers[0], { issuer: "cn=*,o=Acme,c=SE", expiresAfter: 3_600_000, renew: { margin: 300_000 }, preProduce: { hashAlgorithms: ["sha1"] } });
    assert.deepEqual(cache.background, { perSecond: 100, burst: 100, rescanInterval: 300_000 });
    assert.deepEqual(cache.redis, { url: "redis://127.0.0.1:6379", timeout: 200, logInterval: 60_000 });
  });

  const cases: [string, string, string, RegExp][] = [
    ["no issuer rows", "      issuers: []", "responders[0].responseCache.issuers", /at least one issuer row/],
    ["a bad duration", `      issuers: [{ issuer: "*", expiresAfter: 1h }]`, "responders[0].responseCache.issuers[0].expiresAfter", /ISO 8601/],
    ["a margin not shorter than expiresAfter", `      issuers: [{ issuer: "*", expiresAfter: PT1H, renew: { margin: PT1H } }]`, "responders[0].responseCache.issuers[0].renew.margin", /shorter than expiresAfter/],
    ["pre-production without renewing", `      issuers: [{ issuer: "*", expiresAfter: PT1H, preProduce: {} }]`, "responders[0].responseCache.issuers[0].preProduce", /needs renew.margin/],
    ["an unknown hash algorithm", `      issuers: [{ issuer: "*", expiresAfter: PT1H, renew: { margin: PT1M }, preProduce: { hashAlgorithms: [md5] } }]`, "responders[0].responseCache.issuers[0].preProduce.hashAlgorithms[0]", /./],
    ["a Redis URL of another scheme", `      issuers: [{ issuer: "*", expiresAfter: PT1H }]\n      redis: { url: "http://x" }`, "responders[0].responseCache.redis.url", /redis:\/\//],
    ["an unknown field", `      issuers: [{ issuer: "*", expiresAfter: PT1H, ttl: 5 }]`, "responders[0].responseCache.issuers[0]", /unknown field "ttl"/],
  ];
  for (const [title, cache, field, message] of cases) {
    test(`refuses ${title}, naming the field`, () => fails(yaml("cached", cache), field, message));
  }
});
