// bench/net-floor-server.mjs - the floor under a connection per request on node:net (issue 18): a bare
// node:net server that answers each connection's first read with a fixed HTTP/1.1 response of Vouch's
// size and `connection: close`, then ends the socket. No HTTP parsing, no OCSP, no signature: what
// Node and the kernel cost per connection, below node:http (bench/node-floor-server.mjs) and Vouch.
// Env: PORT=8890, RESP_FILE (the body; default 1,536 octets), ALLOW_HALF_OPEN=1 (as Vouch's listener).
import { Buffer } from 'node:buffer';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

const port = Number(process.env.PORT ?? 8890);
const body = process.env.RESP_FILE ? readFileSync(process.env.RESP_FILE) : Buffer.alloc(1536, 7);
const reply = Buffer.concat([
  Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/ocsp-response\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`, 'latin1'),
  body,
]);
const allowHalfOpen = process.env.ALLOW_HALF_OPEN !== '0';

const server = createServer({ allowHalfOpen, noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  // wrk sends a request in one write: a connection's first read is its request.
  socket.once('data', () => socket.end(reply));
  if (allowHalfOpen) socket.on('end', () => { if (!socket.writableEnded) socket.end(); });
});
server.listen(port, '127.0.0.1', () => console.log(`net-floor pid=${process.pid} port=${port} body=${body.length}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
