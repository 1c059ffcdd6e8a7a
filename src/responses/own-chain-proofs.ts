/**
 * Freshness proofs for the responder's own signing chain (SPEC §2 step 8, identrus-cached): for each
 * served issuer, an OCSP response about its signer certificate (when delegated) and about the CA
 * certificate (unless self-signed), kept current in the background so that signing only attaches
 * prebuilt bytes.
 */
import { X509Certificate, createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import { encodeCertId } from "../ocsp/cert-id.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { decodeOcspResponse } from "../ocsp/decode-response.ts";
import { encodeBasicOcspResponse, encodeResponseData } from "../ocsp/encode-response.ts";
import { freshnessProofExtension } from "../ocsp/freshness-proof.ts";
import { minimalSerial } from "../ocsp/minimal-serial.ts";
import type { CertId, Extension } from "../ocsp/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { IssuerDirectory, ServedIssuer } from "../issuers/issuer-directory.ts";
import type { ResponderIdentity } from "../signing/responder-identity.ts";
import { serialText } from "../status/serial-key.ts";
import type { CertificateCache } from "../trust/certificate-cache.ts";
import type { RevocationLookup } from "../trust/revocation-lookup.ts";
import { checkResponse } from "./check-response.ts";
import type { ResponseCache } from "./response-cache.ts";

/** Asks a remote responder (the back-end client, SPEC step 6) about `certId`; resolves to an OCSPResponse DER or undefined. */
export type BackEndQuery = (certId: CertId, issuer: Buffer, signal: AbortSignal) => Promise<Buffer | undefined>;

export interface OwnChainProofsOptions {
  readonly issuers: IssuerDirectory;
  /** Looked in for certificates of issuers this responder does not serve (a forwarded response another step or instance holds). */
  readonly responses: Pick<ResponseCache, "get"> | undefined;
  /** Where the CA certificates' issuers are found: trust anchors and the certificate cache. */
  readonly anchors: readonly Buffer[];
  readonly certificates: CertificateCache | undefined;
  /** The back-end client, when forwarding is configured; tried last. */
  readonly backEnd?: BackEndQuery | undefined;
  /** Vouch's own revocation sources: a back-end response signed by a delegated signer they know to be revoked is refused. */
  readonly revocation?: Pick<RevocationLookup, "status"> | undefined;
  /** A response is attached only while its thisUpdate is at most this old (and before its nextUpdate). */
  readonly maxAgeMs: number;
  readonly refreshIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface OwnChainProofs {
  /** The freshness-proof extension for responses signed by `identity`, when current proofs are at hand. Synchronous: the hot path. */
  extensionFor(identity: ResponderIdentity, now: number): Extension | undefined;
  /** Fetches every proof anew (also run on start and every refreshIntervalMs); never rejects. */
  refresh(): Promise<void>;
  /** Stops the background refresh and waits for one in progress. */
  close(): Promise<void>;
}

/** One link of a chain: a certificate and its issuer. */
interface Link {
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly certId: CertId;
}

interface Proof {
  readonly body: Buffer;
  /** min(thisUpdate + maxAge, nextUpdate). */
  readonly freshUntil: number;
}

interface Prepared {
  readonly extension: Extension;
  readonly freshUntil: number;
}

/**
 * Starts keeping proofs for the chains of `issuers` (the first refresh on the next turn of the event
 * loop). When this responder serves the certificate's issuer (a served CA answers for the delegated
 * signer it issued, a served root for its CA), the response comes from local validation only, signed
 * by that issuer's signer; otherwise from the response cache, else the back-end client. Only good and revoked answers, no older than `maxAgeMs`,
 * are used; a chain whose proofs are partly missing attaches those it has. Failures are logged.
 */
export function ownChainProofs(options: OwnChainProofsOptions): OwnChainProofs {
  const { issuers, clock, logger, maxAgeMs } = options;
  const chains = new Map<ResponderIdentity, Link[]>(issuers.all.map((issuer) => [issuer.identity, chainOf(issuer, options)]));
  const prepared = new Map<ResponderIdentity, Prepared>();
  const controller = new AbortController();
  let running: Promise<void> | undefined;

  const proofFor = async (link: Link): Promise<Proof | undefined> => {
    const now = clock.now();
    // The issuer's own sources are authoritative: a served issuer's certificate is never proved from a cached copy.
    const served = issuers.find(link.certId);
    if (served !== undefined) {
      const local = await signLocally(served, link, now, controller.signal);
      return local === undefined ? undefined : usable(local, link, now);
    }
    const cached = await options.responses?.get(link.certId);
    if (cached !== undefined) {
      const proof = usable(cached.body, link, now);
      if (proof !== undefined) return proof;
    }
    if (options.backEnd !== undefined) {
      const remote = await options.backEnd(link.certId, link.issuer, controller.signal);
      if (remote !== undefined) return checked(remote, link, now);
    }
    return undefined;
  };

  /** A response from elsewhere is believed only after checkResponse. */
  const checked = async (body: Buffer, link: Link, now: number): Promise<Proof | undefined> => {
    const decoded = decodeOcspResponse(body);
    if (decoded.status !== "successful") return undefined;
    const revocation = options.revocation;
    const check = await checkResponse(decoded.basic, {
      issuerOf: () => link.issuer,
      now,
      maxAgeMs,
      expectedCertIds: [link.certId.der],
      ...(revocation === undefined ? {} : { signerStatus: (signer: Buffer, issuer: Buffer) => revocation.status(signer, issuer, controller.signal) }),
    });
    if (!check.ok) {
      logger.warn({ step: "sign", reason: check.failed, detail: check.detail, serial: serialText(link.certId.serialNumber) }, "own-chain freshness proof from the back end refused");
      return undefined;
    }
    return usable(body, link, now);
  };

  const usable = (body: Buffer, link: Link, now: number): Proof | undefined => {
    const decoded = decodeOcspResponse(body);
    if (decoded.status !== "successful" || decoded.basic.responses.length !== 1) return undefined;
    const single = decoded.basic.responses[0]!;
    if (single.status.kind === "unknown" || !single.certId.serialNumber.equals(link.certId.serialNumber)) return undefined;
    const freshUntil = Math.min(single.thisUpdate.getTime() + maxAgeMs, single.nextUpdate?.getTime() ?? Infinity);
    return freshUntil > now ? { body, freshUntil } : undefined;
  };

  const refreshOnce = async (): Promise<void> => {
    for (const [identity, chain] of chains) {
      const proofs: Proof[] = [];
      for (const link of chain) {
        try {
          const proof = await proofFor(link);
          if (proof !== undefined) proofs.push(proof);
          else logger.info({ step: "sign", serial: serialText(link.certId.serialNumber) }, "no current freshness proof for a certificate of the own chain");
        } catch (error) {
          if (controller.signal.aborted) return;
          logger.warn({ step: "sign", serial: serialText(link.certId.serialNumber), err: error }, "own-chain freshness proof could not be fetched");
        }
      }
      if (proofs.length === 0) prepared.delete(identity);
      else prepared.set(identity, { extension: freshnessProofExtension(proofs.map((proof) => proof.body)), freshUntil: Math.min(...proofs.map((proof) => proof.freshUntil)) });
    }
  };

  const refresh = (): Promise<void> => {
    running ??= refreshOnce().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void refresh(), options.refreshIntervalMs);
  timer.unref();
  // The first refresh waits for the caller to finish wiring (e.g. the response cache it reads).
  const first = setImmediate(() => void refresh());

  return {
    extensionFor(identity, now) {
      const current = prepared.get(identity);
      return current !== undefined && current.freshUntil > now ? current.extension : undefined;
    },
    refresh,
    async close() {
      clearImmediate(first);
      clearInterval(timer);
      controller.abort();
      await running;
    },
  };
}

/** The signer certificate (when delegated) issued by the CA, then the CA certificate and its issuer (when not self-signed and found). */
function chainOf(issuer: ServedIssuer, options: OwnChainProofsOptions): Link[] {
  const links: Link[] = [];
  const signer = issuer.identity.signer.certificate;
  if (!signer.equals(issuer.certificate)) links.push(link(signer, issuer.certificate));
  const caIssuer = issuerOfCa(issuer.certificate, options);
  if (caIssuer !== undefined) links.push(link(issuer.certificate, caIssuer));
  return links;
}

/** The SHA-1 CertID of `subject` (what RFC 5019 clients send, and every source understands). */
function link(subject: Buffer, issuer: Buffer): Link {
  const serialNumber = minimalSerial(certificateFields(subject).serialNumber);
  const { subjectDer, subjectPublicKey } = certificateFields(issuer);
  const certId: CertId = {
    hashAlgorithm: "sha1",
    issuerNameHash: createHash("sha1").update(subjectDer).digest(),
    issuerKeyHash: createHash("sha1").update(subjectPublicKey).digest(),
    serialNumber,
    der: encodeCertId("sha1", issuer, serialNumber),
  };
  return { subject, issuer, certId };
}

/** The certificate that issued `ca`: a served issuer's, an anchor or a cached certificate whose key verifies it; none for a self-signed CA. */
function issuerOfCa(ca: Buffer, options: OwnChainProofsOptions): Buffer | undefined {
  const { issuerDer, subjectDer } = certificateFields(ca);
  const x509 = new X509Certificate(ca);
  if (issuerDer.equals(subjectDer) && x509.verify(x509.publicKey)) return undefined;
  const candidates = [...options.issuers.all.map((served) => served.certificate), ...options.anchors, ...(options.certificates?.findBySubject(issuerDer) ?? [])];
  return candidates.find((candidate) => {
    try {
      return certificateFields(candidate).subjectDer.equals(issuerDer) && x509.verify(new X509Certificate(candidate).publicKey);
    } catch {
      return false;
    }
  });
}

/** Local validation and signing for one link whose issuer this responder serves; undefined when the source has no good or revoked answer. */
async function signLocally(served: ServedIssuer, link: Link, now: number, signal: AbortSignal): Promise<Buffer | undefined> {
  const answer = await served.source.status(link.certId, signal);
  if (answer === undefined || (answer.kind !== "good" && answer.kind !== "revoked")) return undefined;
  const latest = now + served.responseValidityMs;
  const nextUpdate = new Date(answer.nextUpdate === undefined ? latest : Math.min(answer.nextUpdate.getTime(), latest));
  const status = answer.kind === "good" ? { kind: "good" as const } : { kind: "revoked" as const, revokedAt: answer.revokedAt, reason: answer.reason };
  const tbs = encodeResponseData({
    responderIdDer: served.identity.responderIdDer,
    producedAt: new Date(Math.floor(now / 1000) * 1000),
    responses: [{ certIdDer: link.certId.der, status, thisUpdate: answer.thisUpdate, nextUpdate, invalidityDate: answer.kind === "revoked" ? answer.invalidityDate : undefined, extensions: [] }],
    extensions: [],
  });
  const algorithm = served.identity.signer.algorithms[0]!;
  const signature = await served.identity.signer.sign(tbs, algorithm);
  return encodeBasicOcspResponse(tbs, algorithm.identifier.der, signature, served.identity.certsDer);
}
