/**
 * How `vouch query` sends its request: node:http or node:https, so that an HTTPS responder can be
 * asked with a chosen CA bundle and a client certificate (`--tls-ca`, `--tls-cert`, `--tls-key`),
 * as an mTLS responder (SPEC step 1) requires.
 */
import { readFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { ConfigError } from "../errors.ts";

/** The TLS files of `vouch query`. */
export interface QueryTlsOptions {
  /** PEM bundle of the CAs that may have issued the responder's server certificate (default: the system's). */
  readonly tlsCa?: string | undefined;
  /** PEM client certificate (and chain) to present; needs `tlsKey`. */
  readonly tlsCert?: string | undefined;
  /** PEM private key of `tlsCert`. */
  readonly tlsKey?: string | undefined;
}

/** What came back. */
export interface QueryReply {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** The TLS settings read from their files. Throws ConfigError naming the option for a missing file or a half-given pair. */
export async function queryTls(options: QueryTlsOptions, url: URL): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined> {
  const { tlsCa, tlsCert, tlsKey } = options;
  if (tlsCa === undefined && tlsCert === undefined && tlsKey === undefined) return undefined;
  if (url.protocol !== "https:") throw new ConfigError("--url", `--tls-ca, --tls-cert and --tls-key need an https URL, not ${url.href}`);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new ConfigError(tlsCert === undefined ? "--tls-cert" : "--tls-key", "--tls-cert and --tls-key go together");
  const read = async (file: string | undefined, option: string) => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError(option, `${file}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`}`, { cause: error });
    }
  };
  const [ca, cert, key] = await Promise.all([read(tlsCa, "--tls-ca"), read(tlsCert, "--tls-cert"), read(tlsKey, "--tls-key")]);
  return { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert, key: key! }) };
}

/**
 * Sends `body` by POST (or, without a body, GET) to `url`, one connection, and resolves with the
 * reply; rejects with the connection's error (refused, TLS verification, timeout after `timeoutMs`).
 */
export function sendQuery(url: URL, body: Buffer | undefined, timeoutMs: number, tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<QueryReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: "close" };
    if (body !== undefined) {
      headers["content-type"] = "application/ocsp-request";
      headers["content-length"] = String(body.length);
    }
    const options = { method: body === undefined ? "GET" : "POST", headers, signal: AbortSignal.timeout(timeoutMs), ...(tls ?? {}) };
    const onReply = (reply: IncomingMessage) => {
      const chunks: Buffer[] = [];
      reply.on("data", (chunk: Buffer) => chunks.push(chunk));
      reply.on("error", reject);
      reply.on("end", () =>
        resolve({ status: reply.statusCode ?? 0, statusText: reply.statusMessage ?? "", contentType: reply.headers["content-type"], body: Buffer.concat(chunks) }),
      );
    };
    const request = url.protocol === "https:" ? httpsRequest(url, options, onReply) : httpRequest(url, options, onReply);
    request.on("error", reject);
    request.end(body);
  });
}

/** OpenSSL's codes for a server certificate that does not chain to a trusted CA. */
const UNTRUSTED = new Set(["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT"]);

/** Why a query got no answer, in one line; an untrusted server certificate points to `--tls-ca`. */
export function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node appends advice about its own command-line flags, which a vouch user cannot act on.
  const message = error.message.split("; if the root CA")[0]!;
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && UNTRUSTED.has(code) ? `${message} (the server's certificate is not trusted: give the CA that issued it with --tls-ca)` : message;
}
