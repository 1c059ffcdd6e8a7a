import { isPromise } from "../../awaitable.ts";
import type { Clock } from "../../clock.ts";
import { TryLaterError } from "../../errors.ts";
import { encodeBasicOcspResponse, encodeResponseData } from "../../ocsp/encode-response.ts";
import { id_pkix_ocsp_extended_revoke, id_pkix_ocsp_nonce } from "../../ocsp/oids.ts";
import type { Extension, SingleResponse } from "../../ocsp/types.ts";
import type { ResponderIdentity, SignerChoice } from "../../signing/responder-identity.ts";
import { responseEtag } from "../../responses/response-etag.ts";
import type { CacheWindow, SignedResponse } from "../exchange.ts";
import type { Step } from "../step.ts";

export interface SignOptions {
  /** SPEC §4 nonce policy: `ignored` never echoes a nonce. */
  readonly noncePolicy: "optional" | "required" | "ignored";
  readonly clock: Clock;
  /** identrus-cached: freshness proofs for the signer's own chain, attached when current (responses/own-chain-proofs.ts). */
  readonly ownChainProofs?: { extensionFor(identity: ResponderIdentity, now: number): Extension | undefined } | undefined;
}

/** extnValue of the extended-revoke extension: NULL (RFC 6960 §4.4.8). */
const EXTENDED_REVOKE: Extension = { oid: id_pkix_ocsp_extended_revoke, critical: false, value: Buffer.from([0x05, 0x00]) };

/**
 * SPEC step 8: picks the issuer's signer and signature algorithm per RFC 6960 §4.4.7 among its
 * signers valid now (signer-selection.ts: a client preferring ML-DSA gets the ML-DSA signer), caps
 * every nextUpdate at that signer's notAfter (a response must not outlive its signer), builds
 * ResponseData from the answers (the nonce echoed, extended-revoke when a non-issued certificate is
 * answered revoked; identrus-cached: the freshness proof of the signer's own chain when current,
 * SPEC §4), signs and encodes the OCSPResponse. No signer valid now throws TryLaterError; signer
 * failures throw or reject with InternalError; the step is synchronous when the signer signs inline.
 */
export function signStep(options: SignOptions): Step {
  return {
    name: "sign",
    run(exchange) {
      if (exchange.response !== undefined) return;
      const request = exchange.request!;
      const identity = exchange.identity!;
      const now = options.clock.now();
      const choice = identity.choose(request.preferredSignatureAlgorithms, now);
      if (choice === undefined) throw new TryLaterError("no signer certificate of the issuer is valid now");
      const answers = cappedAt(exchange.answers!, choice.identity.notAfter);
      exchange.answers = answers;
      const nonce = options.noncePolicy === "ignored" ? undefined : request.nonce;
      const extensions: Extension[] = [];
      if (nonce !== undefined) extensions.push({ oid: id_pkix_ocsp_nonce, critical: false, value: nonce });
      if (exchange.extendedRevoke) extensions.push(EXTENDED_REVOKE);
      const proof = options.ownChainProofs?.extensionFor(identity, now);
      if (proof !== undefined) extensions.push(proof);
      // producedAt has one-second resolution on the wire; truncating keeps it ≥ every thisUpdate we wrote.
      const producedAt = new Date(Math.floor(now / 1000) * 1000);
      const tbs = encodeResponseData({ responderIdDer: choice.identity.responderIdDer, producedAt, responses: answers, extensions });
      const cacheable = nonce === undefined && !exchange.nonAuthoritative;
      // An inline signature (P-256, Ed25519) is here already: no promise on the hot path.
      const signature = choice.identity.signer.sign(tbs, choice.algorithm);
      if (isPromise(signature)) {
        return signature.then((settled) => {
          exchange.response = signedResponse(tbs, producedAt, choice, settled, cacheable ? answers : undefined);
        });
      }
      exchange.response = signedResponse(tbs, producedAt, choice, signature, cacheable ? answers : undefined);
    },
  };
}

/** The whole OCSPResponse around `tbs` and its signature; `cacheableAnswers` when HTTP caches may keep it. */
function signedResponse(tbs: Buffer, producedAt: Date, choice: SignerChoice, signature: Buffer, cacheableAnswers: readonly SingleResponse[] | undefined): SignedResponse {
  const body = encodeBasicOcspResponse(tbs, choice.algorithm.identifier.der, signature, choice.identity.certsDer);
  const cacheWindow = cacheableAnswers === undefined ? undefined : cacheWindowOf(cacheableAnswers, body);
  return choice.preferred ? { body, producedAt, cacheWindow, forThisClient: true } : { body, producedAt, cacheWindow };
}

/**
 * `answers` with every nextUpdate after `notAfter` brought back to it; the same array when none is
 * (the usual case: no copy). Copies: an answer may be a source's shared object.
 */
function cappedAt(answers: SingleResponse[], notAfter: number): SingleResponse[] {
  let past = false;
  // A loop, not `some`: no closure on the hot path.
  for (const answer of answers) past ||= answer.nextUpdate !== undefined && answer.nextUpdate.getTime() > notAfter;
  if (!past) return answers;
  const cap = new Date(notAfter);
  return answers.map((answer) => (answer.nextUpdate !== undefined && answer.nextUpdate.getTime() > notAfter ? { ...answer, nextUpdate: cap } : answer));
}

/** The HTTP cache window of `body`, answering `answers`: the latest thisUpdate, the earliest nextUpdate, and its ETag. */
function cacheWindowOf(answers: readonly { thisUpdate: Date; nextUpdate: Date | undefined }[], body: Buffer): CacheWindow | undefined {
  let thisUpdate = answers[0]!.thisUpdate;
  let nextUpdate = answers[0]!.nextUpdate;
  for (const answer of answers) {
    if (answer.nextUpdate === undefined) return undefined;
    if (answer.thisUpdate > thisUpdate) thisUpdate = answer.thisUpdate;
    if (nextUpdate === undefined || answer.nextUpdate < nextUpdate) nextUpdate = answer.nextUpdate;
  }
  return nextUpdate === undefined ? undefined : { thisUpdate, nextUpdate, etag: responseEtag(body) };
}
