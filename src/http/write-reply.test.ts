/**
 * Replies on a real loopback socket: the head of a reply with a shared head is encoded once a second
 * and reused, and must still say what each reply needs: its status, its connection handling and the
 * current Date.
 */
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { test } from "node:test";
import { SharedHead, type Reply } from "./reply.ts";
import { textReply, writeReply } from "./write-reply.ts";

/** Writes `replies` (reply, keep-alive) on the server side of a fresh connection; returns what the client read. */
async function sent(write: (socket: Socket) => Promise<void> | void): Promise<string> {
  const server = createServer((socket) => {
    void Promise.resolve(write(socket)).then(() => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const client = connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  client.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => client.on("close", resolve));
  server.close();
  return Buffer.concat(chunks).toString("latin1");
}

const heads = (text: string) => text.split(/\r\n\r\n[^]*?(?=HTTP\/1\.1 |$)/).filter((head) => head !== "");
const shared = (statusCode: number, body: string, headers: Readonly<Record<string, string>>, sharedHead: SharedHead): Reply => ({ statusCode, headers, body: Buffer.from(body), sharedHead });

test("replies with a shared head say their own status, connection handling and body, each time", async () => {
  const headers = { "content-type": "text/plain", "content-length": "3" };
  // The 200 replies share one head; the 404 with the same headers has its own.
  const ok = new SharedHead();
  const text = await sent((socket) => {
    writeReply(socket, shared(200, "one", headers, ok), "keep-alive", 5);
    writeReply(socket, shared(200, "two", headers, ok), "keep-alive", 7);
    writeReply(socket, shared(404, "404", headers, new SharedHead()), "keep-alive", 7);
    writeReply(socket, shared(200, "end", headers, ok), "linger", 7);
  });
  const [first, second, third, fourth] = heads(text);
  assert.match(first!, /^HTTP\/1\.1 200 OK\r\ncontent-type: text\/plain\r\ncontent-length: 3\r\ndate: [^\r]+ GMT\r\nconnection: keep-alive\r\nkeep-alive: timeout=5$/);
  assert.match(second!, /^HTTP\/1\.1 200 OK\r\n[^]*keep-alive: timeout=7$/);
  assert.match(third!, /^HTTP\/1\.1 404 Not Found\r\n[^]*keep-alive: timeout=7$/);
  assert.match(fourth!, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close$/);
  assert.deepEqual(text.match(/\r\n\r\n(one|two|404|end)/g), ["\r\n\r\none", "\r\n\r\ntwo", "\r\n\r\n404", "\r\n\r\nend"]);
});

test("a reused head carries the current Date, not the one it was first encoded with", async () => {
  const reply = textReply(200, "ok\n");
  const text = await sent(async (socket) => {
    writeReply(socket, reply, "keep-alive", 5);
    // Past the next second boundary.
    await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 20));
    writeReply(socket, reply, "keep-alive", 5);
  });
  const dates = [...text.matchAll(/\r\ndate: ([^\r]+)\r\n/g)].map((match) => Date.parse(match[1]!));
  assert.equal(dates.length, 2);
  assert.equal(dates[1]! - dates[0]!, 1_000);
});

test("headers made for one reply are encoded as they are", async () => {
  const text = await sent((socket) => writeReply(socket, { statusCode: 200, headers: { etag: '"abc"', "content-length": "2" }, body: Buffer.from("hi"), sharedHead: undefined }, "linger", 5));
  assert.match(text, /^HTTP\/1\.1 200 OK\r\netag: "abc"\r\ncontent-length: 2\r\ndate: [^\r]+\r\nconnection: close\r\n\r\nhi$/);
});
