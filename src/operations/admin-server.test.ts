import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../errors.ts";
import { recordingLogger } from "../observability/logger.ts";
import { startAdminServer, type AdminServer } from "./admin-server.ts";
import type { ReadyReport } from "./readiness.ts";

const READY: ReadyReport = { ready: true, issuers: [{ responder: "r", issuer: "CN=CA", ready: true, problems: [] }] };
const NOT_READY: ReadyReport = {
  ready: false,
  issuers: [
    { responder: "r", issuer: "CN=CA", ready: true, problems: [] },
    { responder: "r", issuer: "CN=Other", ready: false, problems: ["no revocation data loaded"] },
  ],
};

async function withAdmin(options: { metrics?: () => Promise<string>; ready?: () => Promise<ReadyReport> }, body: (base: string, server: AdminServer) => Promise<void>) {
  const logger = recordingLogger();
  const server = await startAdminServer({
    listen: { host: "127.0.0.1", port: 0 },
    metrics: options.metrics ?? (async () => "vouch_x_total 1\n"),
    ready: options.ready ?? (async () => READY),
    logger,
  });
  try {
    await body(`http://127.0.0.1:${server.port}`, server);
  } finally {
    await server.close();
  }
  return logger;
}

test("serves the injected metrics text with Prometheus's content type, and logs where it listens", async () => {
  const logger = await withAdmin({}, async (base) => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    assert.equal(await response.text(), "vouch_x_total 1\n");
  });
  assert.equal(logger.records[0]!.message, "admin listening");
  assert.equal(typeof logger.records[0]!.fields.port, "number");
});

test("/readyz: 200 ready, or 503 with JSON naming each failing issuer and why", async () => {
  await withAdmin({}, async (base) => {
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ready\n");
  });
  await withAdmin({ ready: async () => NOT_READY }, async (base) => {
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(await response.json(), { ready: false, failing: [{ responder: "r", issuer: "CN=Other", problems: ["no revocation data loaded"] }] });
  });
});

test("/readyz: a degraded component (Redis down) stays 200 with a JSON note; a failing one (billing) is 503 beside the issuers", async () => {
  const redis = { responder: "r", component: "redis", state: "degraded", problems: ["the shared response cache (Redis) is unavailable"] } as const;
  const billing = { responder: "r", component: "billing", state: "failing", problems: ["billing sink cannot write: EPERM"] } as const;
  await withAdmin({ ready: async () => ({ ...READY, components: [redis] }) }, async (base) => {
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(await response.json(), { ready: true, degraded: [{ responder: "r", component: "redis", problems: redis.problems }] });
  });
  await withAdmin({ ready: async () => ({ ...NOT_READY, components: [billing, redis] }) }, async (base) => {
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), {
      ready: false,
      failing: [
        { responder: "r", issuer: "CN=Other", problems: ["no revocation data loaded"] },
        { responder: "r", component: "billing", problems: billing.problems },
      ],
      degraded: [{ responder: "r", component: "redis", problems: redis.problems }],
    });
  });
});

test("/healthz ok; unknown paths 404; other methods 405; HEAD has no body", async () => {
  await withAdmin({}, async (base) => {
    assert.equal(await (await fetch(`${base}/healthz`)).text(), "ok\n");
    assert.equal((await fetch(`${base}/metrics/x`)).status, 404);
    const post = await fetch(`${base}/readyz`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  });
});

test("a metrics or readiness function that throws gives 500 and an error log, and the server keeps serving", async () => {
  const logger = await withAdmin(
    {
      metrics: async () => {
        throw new Error("worker did not answer");
      },
    },
    async (base) => {
      assert.equal((await fetch(`${base}/metrics`)).status, 500);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
    },
  );
  const error = logger.records.find((record) => record.level === "error");
  assert.equal(error?.message, "admin request failed");
  assert.equal(error?.fields.path, "/metrics");
});

test("an address in use is a ConfigError naming admin.listen", async () => {
  await withAdmin({}, async (_base, server) => {
    await assert.rejects(
      startAdminServer({ listen: { host: "127.0.0.1", port: server.port }, metrics: async () => "", ready: async () => READY, logger: recordingLogger() }),
      (error: unknown) => error instanceof ConfigError && error.field === "admin.listen" && /EADDRINUSE/.test(error.message),
    );
  });
});
