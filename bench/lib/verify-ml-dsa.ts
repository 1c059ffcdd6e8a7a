/**
 * bench/lib/verify-ml-dsa.ts RESPONSE_DER REQUEST_DER CA_PEM - run.sh's pre-flight check of an ML-DSA
 * response, which the system's `openssl ocsp` (3.0) cannot verify: OCSP `successful`, the request's
 * nonce echoed, one `good` answer, the signature verified by Node's crypto with the first certificate
 * in `certs`, and that certificate issued by the CA with id-kp-OCSPSigning. Prints one line; exits 1
 * naming the check that failed.
 */
import { X509Certificate, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { decodeOcspRequest } from "../../src/ocsp/decode-request.ts";
import { decodeOcspResponse } from "../../src/ocsp/decode-response.ts";

const [responseFile, requestFile, caFile] = process.argv.slice(2);
const fail = (message: string): never => {
  process.stdout.write(`ML-DSA pre-flight: ${message}\n`);
  process.exit(1);
};
if (responseFile === undefined || requestFile === undefined || caFile === undefined) fail("usage: verify-ml-dsa.ts RESPONSE_DER REQUEST_DER CA_PEM");
const response = decodeOcspResponse(readFileSync(responseFile!));
if (response.status !== "successful") fail(`response status ${response.status}`);
const basic = (response as Extract<typeof response, { status: "successful" }>).basic;
const request = decodeOcspRequest(readFileSync(requestFile!));
if (request.nonce === undefined || basic.nonce === undefined || !basic.nonce.equals(request.nonce)) fail("the nonce is not echoed");
if (basic.responses.length !== 1 || basic.responses[0]!.status.kind !== "good") fail("not one good answer");
const signer = new X509Certificate(basic.certs[0] ?? fail("no signer certificate in certs"));
const ca = new X509Certificate(readFileSync(caFile!));
if (!signer.publicKey.asymmetricKeyType?.startsWith("ml-dsa")) fail(`the signer key is ${signer.publicKey.asymmetricKeyType}, not ML-DSA`);
if (!verify(null, basic.tbsResponseDataDer, signer.publicKey, basic.signature)) fail("the signature does not verify");
if (!signer.checkIssued(ca) || !signer.verify(ca.publicKey) || !(signer.keyUsage ?? []).includes("1.3.6.1.5.5.7.3.9")) fail("the signer certificate is not an OCSP signer of the CA");
process.stdout.write(`successful, ${signer.publicKey.asymmetricKeyType} signature verified by Node, nonce echoed, good\n`);
