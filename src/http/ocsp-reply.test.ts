/**
 * What step 10 decided becomes HTTP here (SPEC §5): no-cache for answers without a cache window,
 * the cache headers as of the step's clock, 304 without the body, and a head shared only by replies
 * that say so explicitly (errors, the no-cache replies of one length, cache hits within one second).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CacheWindow, OcspReply } from "../pipeline/exchange.ts";
import { errorReply } from "../pipeline/steps/10-send.ts";
import { responseEtag } from "../responses/response-etag.ts";
import { httpReply } from "./ocsp-reply.ts";

const AT = Date.parse("2026-12-07T12:00:00.250Z");
const body = Buffer.from("an OCSP response, as far as HTTP cares");
const window: CacheWindow = { thisUpdate: new Date("2026-12-07T11:00:00Z"), nextUpdate: new Date("2026-12-07T13:00:00Z"), etag: responseEtag(body) };
const reply = (extra: Partial<OcspReply>): OcspReply => ({ body, cache: window, at: AT, notModified: false, reuseHead: false, ...extra });

test("an answer with a cache window gets the SPEC §5 headers as of step 10's clock, made for it alone", () => {
  const sent = httpReply(reply({}));
  assert.equal(sent.statusCode, 200);
  assert.deepEqual(sent.headers, {
    "content-type": "application/ocsp-response",
    "cache-control": "max-age=3599, public, no-transform, must-revalidate",
    etag: window.etag,
    "last-modified": "Mon, 07 Dec 2026 11:00:00 GMT",
    expires: "Mon, 07 Dec 2026 13:00:00 GMT",
    "content-length": String(body.length),
  });
  assert.equal(sent.body, body);
  assert.equal(sent.sharedHead, undefined);
});

test("304 Not Modified carries the cache headers and no body", () => {
  const sent = httpReply(reply({ notModified: true }));
  assert.equal(sent.statusCode, 304);
  assert.equal(sent.headers.etag, window.etag);
  assert.equal(sent.headers["content-length"], "0");
  assert.equal(sent.body.length, 0);
  assert.equal(sent.sharedHead, undefined);
});

test("a response served again shares its head within a second, and gets new headers the next second", () => {
  const first = httpReply(reply({ reuseHead: true }));
  const again = httpReply(reply({ reuseHead: true, body: Buffer.from(body), at: AT + 500 }));
  assert.ok(first.sharedHead !== undefined);
  assert.equal(again.sharedHead, first.sharedHead);
  assert.equal(again.headers, first.headers);
  assert.ok(again.body.equals(body) && again.body !== first.body, "each reply keeps its own bytes");
  const next = httpReply(reply({ reuseHead: true, at: AT + 1_000 }));
  assert.notEqual(next.sharedHead, first.sharedHead);
  assert.equal(next.headers["cache-control"], "max-age=3598, public, no-transform, must-revalidate");
});

test("answers without a cache window and error statuses are no-cache, their head shared by body length", () => {
  const nonce = httpReply({ body, cache: undefined, at: 0, notModified: false, reuseHead: false });
  assert.equal(nonce.statusCode, 200);
  assert.deepEqual(nonce.headers, { "content-type": "application/ocsp-response", "cache-control": "no-cache, no-store, max-age=0", "content-length": String(body.length) });
  const other = httpReply({ body: Buffer.from(body), cache: undefined, at: 0, notModified: false, reuseHead: false });
  assert.equal(other.sharedHead, nonce.sharedHead);
  const tryLater = httpReply(errorReply("tryLater"));
  assert.deepEqual(tryLater.body, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]));
  assert.equal(tryLater.headers["cache-control"], "no-cache, no-store, max-age=0");
  assert.ok(tryLater.sharedHead !== undefined);
});
