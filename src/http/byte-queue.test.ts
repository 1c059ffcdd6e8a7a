import assert from "node:assert/strict";
import { test } from "node:test";
import { appendBytes } from "./byte-queue.ts";

test("appending keeps every byte in order, and views taken earlier keep theirs", () => {
  let pending: Buffer | undefined;
  const views: [Buffer, string][] = [];
  let expected = "";
  for (let i = 0; i < 3000; i++) {
    const piece = String.fromCharCode(97 + (i % 26)).repeat(1 + (i % 7));
    pending = appendBytes(pending, Buffer.from(piece, "latin1"));
    expected += piece;
    if (i % 97 === 0) {
      // A reader consumes from the front, as a connection does with a request it parsed.
      const cut = Math.floor(pending.length / 2);
      views.push([pending.subarray(0, cut), expected.slice(0, cut)]);
      pending = pending.subarray(cut);
      expected = expected.slice(cut);
    }
  }
  assert.equal(pending!.toString("latin1"), expected);
  for (const [view, text] of views) assert.equal(view.toString("latin1"), text);
});

test("a chunk received from the socket is used as is when nothing is pending", () => {
  const chunk = Buffer.from("abc");
  assert.equal(appendBytes(undefined, chunk), chunk);
});
