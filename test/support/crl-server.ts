/**
 * A CA's CRL distribution point on loopback (node:http): serves whatever CRL bytes the test sets,
 * with ETag and Last-Modified, answers 304 to a conditional request for the same bytes, and can go
 * down (connections refused) and come back on the same port.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CrlServer {
  /** The URL the CRL is served at (the path `startCrlServer` was given). */
  readonly url: string;
  /** The URL of another path on the server. */
  urlOf(path: string): string;
  /** Serves `bytes` at `path` (default: the first one) from now on (a new version: new ETag and Last-Modified). */
  serve(bytes: Buffer, path?: string): void;
  /** Answers so far, by status code. */
  readonly answered: Map<number, number>;
  /** Answers that sent the body (200) so far, by path. */
  readonly downloads: Map<string, number>;
  /** Stops listening: connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startCrlServer(path = "/ca.crl"): Promise<CrlServer> {
  const paths = new Map<string, { bytes: Buffer; etag: string; lastModified: string }>();
  const answered = new Map<number, number>();
  const downloads = new Map<string, number>();
  const handler: Parameters<typeof createServer>[1] = (request, response) => {
    const served = paths.get(request.url ?? "");
    const status = served === undefined ? 404 : request.headers["if-none-match"] === served.etag ? 304 : 200;
    answered.set(status, (answered.get(status) ?? 0) + 1);
    if (status !== 200 || served === undefined) {
      response.writeHead(status, served === undefined ? {} : { etag: served.etag }).end();
      return;
    }
    downloads.set(request.url ?? "", (downloads.get(request.url ?? "") ?? 0) + 1);
    response.writeHead(200, { "content-type": "application/pkix-crl", "content-length": served.bytes.length, etag: served.etag, "last-modified": served.lastModified });
    response.end(served.bytes);
  };
  let server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}${path}`,
    urlOf: (other) => `http://127.0.0.1:${port}${other}`,
    answered,
    downloads,
    serve(bytes, at = path) {
      paths.set(at, { bytes, etag: `"${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}"`, lastModified: new Date().toUTCString() });
    },
    down: stop,
    async up() {
      server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    async close() {
      if (server.listening) await stop();
    },
  };
}
