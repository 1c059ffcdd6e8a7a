import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "./load.ts";

/** Every kind of path field, relative, in one configuration read from /etc/vouch. */
const EVERY_PATH = `log:
  access: { output: file, file: logs/access.jsonl }
trust:
  anchors: [anchors/root.pem, /abs/root2.pem]
  certificates: certs
  crls: [crls/root.crl]
responders:
  - name: all
    listen: { port: 0 }
    tls: { certificate: tls/cert.pem, key: tls/key.pem }
    billing: { sink: file, directory: billing }
    forwarding: { methods: [table], table: [{ issuer: "CN=*", url: "http://ocsp.example/" }], checks: { signerCertificates: [remote/signer.pem] } }
    issuers:
      - certificate: ca.pem
        signers:
          - { certificate: signer.pem, key: signer.key, passphrase: { file: secrets/pass } }
          - { directory: signers, renew: { command: [bin/renew.sh, --ca, ca.cnf] } }
          - { pkcs11: { module: lib/softhsm.so, token: t, key: k, pin: { file: secrets/pin } } }
        sources:
          - { type: index, file: db/index.txt }
          - { type: crl, files: [crls/ca.crl, /abs/delta.crl] }
          - { type: sql, database: db/status.sqlite }
      - certificate: /abs/ca2.pem
        signer: { pkcs11: { module: libsofthsm2.so, token: t, key: k, pin: { env: PIN } } }
        sources: [{ type: sql, database: "postgres://db.example/vouch" }]
`;

describe("paths in the configuration", () => {
  test("every path field the schema declares is resolved against the configuration's folder; absolute paths, bare program names and PostgreSQL URLs are kept", () => {
    const config = parseConfig(EVERY_PATH, "/etc/vouch/vouch.yaml");
    assert.equal(config.log.access?.file, "/etc/vouch/logs/access.jsonl");
    assert.deepEqual(config.trust?.anchors, ["/etc/vouch/anchors/root.pem", "/abs/root2.pem"]);
    assert.equal(config.trust?.certificates, "/etc/vouch/certs");
    assert.deepEqual(config.trust?.crls, ["/etc/vouch/crls/root.crl"]);
    const responder = config.responders[0]!;
    assert.deepEqual([responder.tls?.certificate, responder.tls?.key], ["/etc/vouch/tls/cert.pem", "/etc/vouch/tls/key.pem"]);
    assert.equal(responder.billing?.directory, "/etc/vouch/billing");
    assert.deepEqual(responder.forwarding?.checks.signerCertificates, ["/etc/vouch/remote/signer.pem"]);
    const [first, second] = responder.issuers;
    assert.equal(first!.certificate, "/etc/vouch/ca.pem");
    const [keyFile, directory, token] = first!.signers!;
    assert.deepEqual([keyFile!.certificate, keyFile!.key, keyFile!.passphrase], ["/etc/vouch/signer.pem", "/etc/vouch/signer.key", { file: "/etc/vouch/secrets/pass" }]);
    assert.equal(directory!.directory, "/etc/vouch/signers");
    assert.deepEqual(directory!.renew?.command, ["/etc/vouch/bin/renew.sh", "--ca", "ca.cnf"]);
    assert.deepEqual([token!.pkcs11?.module, token!.pkcs11?.pin], ["/etc/vouch/lib/softhsm.so", { file: "/etc/vouch/secrets/pin" }]);
    assert.deepEqual(
      first!.sources.map((source) => (source.type === "index" ? source.file : source.type === "crl" ? source.files : source.database)),
      ["/etc/vouch/db/index.txt", ["/etc/vouch/crls/ca.crl", "/abs/delta.crl"], "/etc/vouch/db/status.sqlite"],
    );
    assert.equal(second!.certificate, "/abs/ca2.pem");
    assert.deepEqual([second!.signer?.pkcs11?.module, second!.signer?.pkcs11?.pin], ["libsofthsm2.so", { env: "PIN" }]);
    assert.deepEqual(second!.sources, [{ type: "sql", database: "postgres://db.example/vouch", schema: "vouch", pollInterval: 1000 }]);
  });

  test("a renewal command's program is resolved only when it names a path; its arguments never", () => {
    const text = EVERY_PATH.replace("{ directory: signers, renew: { command: [bin/renew.sh, --ca, ca.cnf] } }", "{ directory: signers, renew: { command: [renew, a/b] } }");
    assert.deepEqual(parseConfig(text, "/etc/vouch/vouch.yaml").responders[0]!.issuers[0]!.signers![1]!.renew?.command, ["renew", "a/b"]);
  });
});
