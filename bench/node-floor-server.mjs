// Copied from ../shared/bench/node-ceiling-server.mjs (the shared benchmark harness), unchanged but for this
// header and the Buffer import: the Node floor of bench/run.sh and bench/instructions.sh (issue 18). With a client that sends
// `Connection: close` (wrk with BENCH_CLOSE=1) node:http opens one connection per request.
// Trivial Node.js HTTP server returning a fixed binary body: the HTTP ceiling of this machine
// (what any Node OCSP responder could reach at best with the same load generator).
// Env: PORT=8889, BODY_BYTES=1536, RESP_FILE (serve this file instead, e.g. a real OCSP response),
//      WORKERS=1 (>1 = node:cluster workers sharing the port). Listens on 127.0.0.1 only.
import { Buffer } from 'node:buffer';
import http from 'node:http';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';

const port = Number(process.env.PORT ?? 8889);
const workers = Number(process.env.WORKERS ?? 1);

// A syntactically OCSP-shaped body: OCSPResponse{ successful, [0]{ id-pkix-ocsp-basic, OCTET STRING filler } }
function ocspShaped(total) {
  const filler = total - 4 - 3 - 4 - 4 - 11 - 4;
  if (filler < 0 || total > 0xffff) throw new Error('BODY_BYTES must be 30..65535');
  const len = (n) => [0x82, n >> 8, n & 0xff];
  const oid = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
  const head = [
    0x30, ...len(total - 4), 0x0a, 0x01, 0x00,
    0xa0, ...len(total - 11), 0x30, ...len(total - 15), ...oid, 0x04, ...len(filler),
  ];
  const body = Buffer.alloc(total);
  Buffer.from(head).copy(body);
  for (let i = head.length; i < total; i++) body[i] = (i * 131 + 7) & 0xff;
  return body;
}

const body = process.env.RESP_FILE
  ? readFileSync(process.env.RESP_FILE)
  : ocspShaped(Number(process.env.BODY_BYTES ?? 1536));

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => { for (const w of Object.values(cluster.workers)) w.kill('SIGTERM'); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`node-ceiling primary pid=${process.pid} workers=${workers} port=${port} body=${body.length}`);
} else {
  const server = http.createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/ocsp-response', 'Content-Length': body.length });
      res.end(body);
    });
  });
  server.listen(port, '127.0.0.1', () => {
    if (workers <= 1) console.log(`node-ceiling pid=${process.pid} port=${port} body=${body.length}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
