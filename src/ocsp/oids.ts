/** Object identifiers Vouch reads or writes, dotted decimal, named as in their RFCs. */

/** id-pkix-ocsp (RFC 6960 §4.4) */
export const id_pkix_ocsp = "1.3.6.1.5.5.7.48.1";
export const id_pkix_ocsp_basic = `${id_pkix_ocsp}.1`;
export const id_pkix_ocsp_nonce = `${id_pkix_ocsp}.2`;
export const id_pkix_ocsp_crl = `${id_pkix_ocsp}.3`;
export const id_pkix_ocsp_response = `${id_pkix_ocsp}.4`;
export const id_pkix_ocsp_nocheck = `${id_pkix_ocsp}.5`;
export const id_pkix_ocsp_service_locator = `${id_pkix_ocsp}.7`;
export const id_pkix_ocsp_pref_sig_algs = `${id_pkix_ocsp}.8`;
export const id_pkix_ocsp_extended_revoke = `${id_pkix_ocsp}.9`;

/** Identrus freshness proof (SPEC §4). */
export const id_identrus_freshness_proof = "1.3.6.1.4.1.2390.3.5";

/** id-kp-OCSPSigning (RFC 5280 §4.2.1.12) */
export const id_kp_OCSPSigning = "1.3.6.1.5.5.7.3.9";

/** id-ce-invalidityDate (RFC 5280 §5.3.2) */
export const id_ce_invalidityDate = "2.5.29.24";
export const id_ce_cRLReasons = "2.5.29.21";
export const id_ce_certificateIssuer = "2.5.29.29";
export const id_ce_cRLNumber = "2.5.29.20";
export const id_ce_deltaCRLIndicator = "2.5.29.27";
export const id_ce_issuingDistributionPoint = "2.5.29.28";
export const id_ce_authorityKeyIdentifier = "2.5.29.35";
export const id_ce_freshestCRL = "2.5.29.46";

/** Hash algorithms (NIST, RFC 3279/5754). */
export const id_sha1 = "1.3.14.3.2.26";
export const id_sha256 = "2.16.840.1.101.3.4.2.1";
export const id_sha384 = "2.16.840.1.101.3.4.2.2";
export const id_sha512 = "2.16.840.1.101.3.4.2.3";

/** Signature algorithms. */
export const sha1WithRSAEncryption = "1.2.840.113549.1.1.5";
export const sha256WithRSAEncryption = "1.2.840.113549.1.1.11";
export const sha384WithRSAEncryption = "1.2.840.113549.1.1.12";
export const sha512WithRSAEncryption = "1.2.840.113549.1.1.13";
export const id_RSASSA_PSS = "1.2.840.113549.1.1.10";
export const id_mgf1 = "1.2.840.113549.1.1.8";
export const rsaEncryption = "1.2.840.113549.1.1.1";
export const ecdsa_with_SHA256 = "1.2.840.10045.4.3.2";
export const ecdsa_with_SHA384 = "1.2.840.10045.4.3.3";
export const ecdsa_with_SHA512 = "1.2.840.10045.4.3.4";
export const id_Ed25519 = "1.3.101.112";
/** ML-DSA (FIPS 204) in X.509 and OCSP, RFC 9881 §2: pure ML-DSA, empty context, parameters absent. */
export const id_ml_dsa_44 = "2.16.840.1.101.3.4.3.17";
export const id_ml_dsa_65 = "2.16.840.1.101.3.4.3.18";
export const id_ml_dsa_87 = "2.16.840.1.101.3.4.3.19";
