/**
 * bench/sign-floor.ts [PORT=9555] - the floor under issue #2's benchmark: a bare node:net server that
 * does nothing but read, sign 220 bytes with a P-256 key (crypto.sign, inline) and write a fixed
 * HTTP/1.1 response of about Vouch's size. No HTTP parsing, no OCSP. Load it as Vouch is loaded:
 *
 *   node bench/sign-floor.ts & wrk -t1 -c8 -d8s http://127.0.0.1:9555/ ; kill -INT %1
 *
 * On SIGINT it prints the requests answered and its CPU µs per request (user, system). What Vouch
 * spends above this is its own request path.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { createServer } from "node:net";

const port = Number(process.argv[2] ?? 9555);
const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const tbs = Buffer.alloc(220, 7);
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
