/**
 * bench/sign-floor.ts [PORT=9555] - the floor under issue #2's benchmark: a bare node:net server that
 * does nothing but read, sign 220 bytes with a P-256 key (crypto.sign, inline) and write a fixed
 * HTTP/1.1 response of about Vouch's size. No HTTP parsing, no OCSP. Load it as Vouch is loaded:
 *
 *   node bench/sign-floor.ts & wrk -t1 -c8 -d8s http://127.0.0.1:9555/ ; kill -INT %1
 *
 * On SIGINT it prints the requests answered and its CPU µs per request (user, system). What Vouch
 * spends above this is its own request path.
 *
 * `node bench/sign-floor.ts --loop [SECONDS=1]` serves nothing: it signs the same bytes in a loop and
 * prints `node-sign-p256 <signatures per CPU second>`, the bare cost of Node's crypto.sign that
 * bench/run.sh reports next to `openssl speed` (issue 18's CPU goal is stated with it).
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { createServer } from "node:net";

const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const tbs = Buffer.alloc(220, 7);

if (process.argv[2] === "--loop") {
  const seconds = Number(process.argv[3] ?? 1);
  for (let i = 0; i < 200; i++) sign("sha256", tbs, privateKey); // warm up
  const start = process.cpuUsage();
  let signed = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 100; i++) sign("sha256", tbs, privateKey);
    signed += 100;
  }
  const used = process.cpuUsage(start);
  process.stdout.write(`node-sign-p256\t${Math.round((signed * 1e6) / (used.user + used.system))}\n`);
  process.exit(0);
}

const port = Number(process.argv[2] ?? 9555);
const filler = Buffer.alloc(300);
let answered = 0;

createServer((socket) => {
  socket.on("error", () => {});
  // wrk sends one request per write and waits for its answer: a read is a request.
  socket.on("data", () => {
    const signature = sign("sha256", tbs, privateKey);
    const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: ${filler.length + signature.length}\r\n\r\n`);
    socket.write(Buffer.concat([head, filler, signature]));
    answered++;
  });
}).listen(port, "127.0.0.1", () => process.stdout.write(`sign-floor listening on 127.0.0.1:${port}\n`));

process.on("SIGINT", () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ answered, userUsPerRequest: user / answered, systemUsPerRequest: system / answered })}\n`);
  process.exit(0);
});
