import assert from "node:assert/strict";
import { test } from "node:test";
import { deserialize, serialize } from "node:v8";
import { parseConfig } from "../config/load.ts";

// The supervisor hands its workers the parsed configuration (worker-messages.ts): a worker process
// receives it through fork's "advanced" serialization (v8.serialize), a worker thread through
// postMessage (structured clone). Both keep plain data only: a class instance or a function in a
// Config would arrive broken, and deepStrictEqual (which compares prototypes) would say so.
const BROAD = `log: { level: warn, access: { output: file, file: access.log, sample: 0.5 } }
trust: { anchors: [root.pem] }
limits: { maxSigningsInFlight: 8 }
admin: { listen: { port: 9100 }, readiness: { signerTestInterval: PT10S } }
responders:
  - name: front
    type: identrus-cached
    listen: { host: 127.0.0.1, port: 8080 }
    path: /ocsp
    responseValidity: PT2H
    reuseFor: PT0S
    nonce: { policy: required, maxLength: 64 }
    timeouts: { headers: PT3S }
    requestSignature: { required: true }
    authorization: { method: byname, names: ["cn=*,o=Acme,c=SE"] }
    billing: { sink: file, directory: billing }
    forwarding: { methods: [table], table: [{ issuer: "cn=CA01,o=Acme,c=SE", url: "http://ocsp.acme.example/" }] }
    responseCache:
      issuers:
        - { issuer: "cn=*,o=Acme,c=SE", expiresAfter: PT1H, renew: { margin: PT5M }, preProduce: {} }
      redis: { url: "redis://127.0.0.1:6379" }
    issuers:
      - certificate: ca.pem
        signers:
          - { certificate: signer.pem, key: signer.key }
          - { pkcs11: { module: lib/softhsm.so, token: ocsp, key: signer, pin: { file: pin.txt } } }
        sources:
          - { type: index, file: index.txt }
          - { type: sql, database: status.db, maxStaleness: PT5M }
          - { type: crl, files: [ca.crl], lists: ["https://pki.example/crls/"], fetch: { stateFolder: crls } }
`;

test("a parsed configuration reaches a worker process or thread exactly as the supervisor parsed it", () => {
  const config = parseConfig(BROAD, "/etc/vouch/vouch.yaml");
  assert.equal(config.responders[0]!.issuers[0]!.sources.length, 3, "the broad configuration parsed whole");
  assert.deepStrictEqual(deserialize(serialize(config)), config);
  assert.deepStrictEqual(structuredClone(config), config);
});
