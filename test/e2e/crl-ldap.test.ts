/**
 * End to end: a `crl` source fetching its CRL from an LDAP directory (OpenLDAP slapd with a throwaway
 * configuration, the CRL in certificateRevocationList;binary, as CRL distribution points name it),
 * asked with `openssl ocsp`: answers from the directory's CRL, a newly published revocation reaching
 * them, and a directory that goes down leaving the held CRL answering.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPki, issueCertificate, publishCrl, readPemDer, revokeCertificate, type Pki } from "../../src/pki/openssl-pki.ts";
import { adminUrl, scrape } from "../support/admin.ts";
import { fetchingCrlIssuer, ocspStatus, until } from "../support/crl-fetching.ts";
import { sampleValue, type Sample } from "../support/prometheus.ts";
import { startSlapd, type Slapd } from "../support/slapd.ts";
import { testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

describe("a crl source fetching from an LDAP directory", () => {
  let pki: Pki;
  let slapd: Slapd;
  let vouch: VouchProcess;
  let admin: string;
  let later: string;
  let url: string;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vouch-crl-ldap-"));
    pki = await createPki({ dir: join(dir, "pki") });
    later = await issueCertificate(pki, "later", { commonName: "later.demo.vouch.test" });
    await publishCrl(pki);
    slapd = await startSlapd();
    const dn = await slapd.publishCrl("Vouch Demo Issuing CA", await readPemDer(pki.crl));
    // As a CRL distribution point names it: the entry's DN percent-encoded, then the attribute.
    url = `${slapd.url}/${encodeURIComponent(dn)}?certificateRevocationList;binary`;
    vouch = await startVouch(
      vouchConfig({
        admin: { listen: { host: "127.0.0.1", port: 0 } },
        responders: [testResponder("ldap", [fetchingCrlIssuer(pki, [url], { stateFolder: join(dir, "state"), margin: "PT1S" })])],
      }),
    );
    admin = await adminUrl(vouch);
  });
  after(async () => {
    await vouch?.stop();
    await slapd?.stop();
  });
  /** 1 when the last fetch of the URL ended with `result`, else 0. */
  const lastResult = (samples: Sample[], result: string): number =>
    samples.some((sample) => sample.name === "vouch_crl_fetch_last_result" && sample.labels.url === url && sample.labels.result === result) ? 1 : 0;

  test("answers come from the directory's CRL, and a newly published revocation reaches them", async () => {
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
    assert.equal(await ocspStatus(vouch, pki, pki.revoked), "revoked");
    assert.equal(await ocspStatus(vouch, pki, later), "good");
    await revokeCertificate(pki, later, "keyCompromise");
    await publishCrl(pki);
    await slapd.publishCrl("Vouch Demo Issuing CA", await readPemDer(pki.crl));
    await until("the revocation in answers", () => ocspStatus(vouch, pki, later), (status) => status === "revoked");
    const samples = await scrape(admin);
    assert.equal(sampleValue(samples, "vouch_crl_number", { responder: "ldap", url }), 3);
    // LDAP has no conditional request: the same bytes fetched again count as unchanged.
    await until("an unchanged fetch", async () => lastResult(await scrape(admin), "unchanged"), (value) => value === 1);
  });

  test("the directory down: the held CRL keeps answering, and the failure is reported", async () => {
    await slapd.stop();
    await until("a failed fetch", async () => lastResult(await scrape(admin), "failed"), (value) => value === 1);
    assert.equal(await ocspStatus(vouch, pki, later), "revoked");
    assert.equal(await ocspStatus(vouch, pki, pki.good), "good");
  });
});
