import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { ConfigError } from "../errors.ts";
import { decodeOcspResponse, decodeBasicOcspResponse, type DecodedBasicResponse, type DecodedOcspResponse } from "../ocsp/decode-response.ts";
import { decodeFreshnessProof } from "../ocsp/freshness-proof.ts";
import { id_identrus_freshness_proof } from "../ocsp/oids.ts";
import type { CertStatus } from "../ocsp/types.ts";
import { readCertificatesFile } from "../certificate-file.ts";
import { checkResponse, type ResponseCheck } from "../responses/check-response.ts";
import { serialText } from "../status/serial-key.ts";
import { buildQueryRequest, type BuiltQuery, type QueryRequestOptions } from "./query-request.ts";
import { describeTransportError, queryTls, sendQuery, type QueryTlsOptions } from "./query-transport.ts";

/** Options of `vouch query` (see src/main.ts and docs/query.md). */
export interface QueryOptions extends QueryRequestOptions, QueryTlsOptions {
  readonly url?: string | undefined;
  readonly get: boolean;
  readonly trust: readonly string[];
  readonly out?: string | undefined;
  readonly timeoutMs: number;
}

/**
 * `vouch query`: builds a request (query-request.ts), sends it (POST, or GET with `--get`), and
 * prints the answer: each certificate's status and times, whether the response verified
 * (checkResponse: signed by the issuer or a responder it designated; with `--trust`, the issuer must
 * also be, or be issued by, a trusted certificate) and whether the nonce came back. Returns the exit
 * code: 0 for a successful, verified response; 1 otherwise (not successful, not an OCSP response,
 * not verified, nonce not echoed, no answer). Throws ConfigError for a bad option or file.
 */
export async function runQuery(options: QueryOptions, print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  const query = await buildQueryRequest(options);
  const trust = (await Promise.all(options.trust.map((file) => readCertificatesFile(file, "--trust")))).flat();
  const url = options.url ?? query.aiaUrl;
  if (url === undefined) throw new ConfigError("--url", "no --url given, and the certificate names no OCSP URL (authorityInfoAccess)");
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new ConfigError("--url", `"${url}" is not a URL`);
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") throw new ConfigError("--url", `"${url}" is not an http or https URL`);
  const tls = await queryTls(options, target);

  let body: Buffer;
  try {
    const reply = options.get
      ? await sendQuery(new URL(encodeURIComponent(query.der.toString("base64")), target.href.endsWith("/") ? target : `${target.href}/`), undefined, options.timeoutMs, tls)
      : await sendQuery(target, query.der, options.timeoutMs, tls);
    body = reply.body;
    if (reply.status !== 200) print(`HTTP ${reply.status} ${reply.statusText} (${reply.contentType ?? "no content type"})`);
  } catch (error) {
    print(`no answer from ${target.href}: ${describeTransportError(error)}`);
    return 1;
  }
  if (options.out !== undefined) await writeFile(options.out, body);

  let decoded: DecodedOcspResponse;
  try {
    decoded = decodeOcspResponse(body);
  } catch (error) {
    print(`not an OCSP response (${body.length} octets): ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (decoded.status !== "successful") {
    print(`Response status: ${decoded.status}`);
    return 1;
  }
  const check = await checkResponse(decoded.basic, {
    issuerOf: () => query.issuer,
    now: Date.now(),
    expectedCertIds: query.asked.map((asked) => asked.certIdDer),
    ...(query.nonce === undefined ? {} : { expectedNonce: query.nonce }),
  });
  const trusted = trust.length === 0 ? undefined : issuerTrusted(query.issuer, trust);
  report(decoded.basic, query, check, trusted, print);
  return check.ok && trusted !== false ? 0 : 1;
}

function report(basic: DecodedBasicResponse, query: BuiltQuery, check: ResponseCheck, trusted: boolean | undefined, print: (line: string) => void): void {
  print(`Response status: successful, produced at ${basic.producedAt.toISOString()}`);
  for (const asked of query.asked) {
    const single = basic.responses.find((candidate) => candidate.certId.der.equals(asked.certIdDer));
    if (single === undefined) {
      print(`${asked.label}: not answered`);
      continue;
    }
    print(`${asked.label}: ${statusText(single.status)}`);
    const times = [`this update ${single.thisUpdate.toISOString()}`, `next update ${single.nextUpdate?.toISOString() ?? "(none)"}`];
    if (single.invalidityDate !== undefined) times.push(`invalidity date ${single.invalidityDate.toISOString()}`);
    print(`  ${times.join(", ")}`);
  }
  if (check.ok) print(`Signature: verified, signed by ${subjectOf(check.signerCertificate)}`);
  else print(`Signature: NOT VERIFIED (${check.failed}: ${check.detail})`);
  if (trusted !== undefined) print(trusted ? "Issuer: trusted (--trust)" : "Issuer: NOT TRUSTED: the --issuer CA is neither a --trust certificate nor issued by one");
  if (query.nonce === undefined) print("Nonce: none sent");
  else if (basic.nonce === undefined) print("Nonce: NOT ECHOED");
  else print(basic.nonce.equals(query.nonce) ? "Nonce: matched" : "Nonce: DIFFERS from the one sent");
  for (const line of proofLines(basic)) print(line);
}

/** The responder's freshness proof (SPEC §4), summarised: one line per response it carries. */
function proofLines(basic: DecodedBasicResponse): string[] {
  const extension = basic.extensions.find((candidate) => candidate.oid === id_identrus_freshness_proof);
  if (extension === undefined) return [];
  try {
    const proof = decodeFreshnessProof(extension.value);
    const lines = [`Freshness proof: ${proof.length} response${proof.length === 1 ? "" : "s"}`];
    for (const entry of proof) {
      const inner = decodeBasicOcspResponse(entry.basicDer);
      for (const single of inner.responses) {
        lines.push(`  serial ${serialText(single.certId.serialNumber)}: ${statusText(single.status)}, this update ${single.thisUpdate.toISOString()}`);
      }
    }
    return lines;
  } catch (error) {
    return [`Freshness proof: unreadable (${error instanceof Error ? error.message : String(error)})`];
  }
}

function statusText(status: CertStatus): string {
  if (status.kind !== "revoked") return status.kind;
  return `revoked at ${status.revokedAt.toISOString()}${status.reason === undefined ? "" : `, reason ${status.reason}`}`;
}

/** Whether `issuer` is one of `trust`, or issued by one of them (signature checked). */
function issuerTrusted(issuer: Buffer, trust: readonly Buffer[]): boolean {
  if (trust.some((anchor) => anchor.equals(issuer))) return true;
  const certificate = new X509Certificate(issuer);
  return trust.some((anchor) => {
    const candidate = new X509Certificate(anchor);
    return certificate.checkIssued(candidate) && certificate.verify(candidate.publicKey);
  });
}

function subjectOf(der: Buffer): string {
  return new X509Certificate(der).subject.replaceAll("\n", ", ");
}
