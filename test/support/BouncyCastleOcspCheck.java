import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * An OCSP client written with Bouncy Castle (bcpkix): builds the request (SHA-1 CertID, and with
 * POST an RFC 8954 nonce), sends it by POST or GET, and checks what comes back: the CertID, the
 * signature, whether the signer is the issuer or a responder it designated, and the nonce.
 * Usage: java -cp BC_JARS:. BouncyCastleOcspCheck URL LABEL=ISSUER.pem:CERT.pem ...
 * Prints per check and method: "LABEL METHOD STATUS signature=ok|bad signer=authorized|not-authorized nonce=matched|missing|differs|none".
 */
public class BouncyCastleOcspCheck {
  public static void main(String[] args) throws Exception {
    String url = args[0];
    for (int i = 1; i < args.length; i++) {
      String label = args[i].substring(0, args[i].indexOf('='));
      String[] files = args[i].substring(label.length() + 1).split(":");
      X509Certificate issuer = read(files[0]);
      X509Certificate certificate = read(files[1]);
      for (String method : new String[] {"POST", "GET"}) System.out.println(label + " " + method + " " + check(url, method, issuer, certificate));
    }
  }

  private static String check(String url, String method, X509Certificate issuer, X509Certificate certificate) throws Exception {
    CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1), new JcaX509CertificateHolder(issuer), certificate.getSerialNumber());
    OCSPReqBuilder builder = new OCSPReqBuilder().addRequest(id);
    byte[] nonce = null;
    if (method.equals("POST")) {
      nonce = new byte[16];
      new SecureRandom().nextBytes(nonce);
      // RFC 8954: the extnValue holds the DER of an OCTET STRING holding the nonce.
      builder.setRequestExtensions(new Extensions(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false, new DEROctetString(new DEROctetString(nonce)))));
    }
    byte[] der = builder.build().getEncoded();
    HttpURLConnection connection;
    if (method.equals("POST")) {
      connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
      connection.setRequestMethod("POST");
      connection.setDoOutput(true);
      connection.setRequestProperty("Content-Type", "application/ocsp-request");
      try (OutputStream out = connection.getOutputStream()) {
        out.write(der);
      }
    } else {
      String path = URLEncoder.encode(Base64.getEncoder().encodeToString(der), StandardCharsets.UTF_8);
      connection = (HttpURLConnection) URI.create(url + (url.endsWith("/") ? "" : "/") + path).toURL().openConnection();
    }
    if (connection.getResponseCode() != 200) return "HTTP " + connection.getResponseCode();
    byte[] body;
    try (InputStream in = connection.getInputStream()) {
      body = in.readAllBytes();
    }
    OCSPResp response = new OCSPResp(body);
    if (response.getStatus() != OCSPResp.SUCCESSFUL) return "ocsp-status-" + response.getStatus();
    BasicOCSPResp basic = (BasicOCSPResp) response.getResponseObject();
    SingleResp single = Arrays.stream(basic.getResponses()).filter((candidate) -> candidate.getCertID().equals(id)).findFirst().orElse(null);
    if (single == null) return "not-answered";
    Object status = single.getCertStatus();
    String text = status == CertificateStatus.GOOD ? "good"
        : status instanceof RevokedStatus revoked ? "revoked" + (revoked.hasRevocationReason() ? "(" + revoked.getRevocationReason() + ")" : "")
        : status instanceof UnknownStatus ? "unknown" : "other";
    X509CertificateHolder signer = basic.getCerts().length > 0 ? basic.getCerts()[0] : null;
    boolean verified = signer != null && basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(signer));
    X509CertificateHolder issuerHolder = new JcaX509CertificateHolder(issuer);
    // RFC 6960 §4.2.2.2: the CA itself, or a certificate it issued with id-kp-OCSPSigning.
    boolean authorized = signer != null && (signer.equals(issuerHolder)
        || (signer.getIssuer().equals(issuerHolder.getSubject()) && signer.isSignatureValid(new JcaContentVerifierProviderBuilder().build(issuerHolder))
            && signer.getExtension(Extension.extendedKeyUsage) != null
            && org.bouncycastle.asn1.x509.ExtendedKeyUsage.fromExtensions(signer.getExtensions()).hasKeyPurposeId(org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_OCSPSigning)));
    String nonceText = "none";
    if (nonce != null) {
      Extension echoed = basic.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
      nonceText = echoed == null ? "missing" : Arrays.equals(DEROctetString.getInstance(echoed.getParsedValue()).getOctets(), nonce) ? "matched" : "differs";
    }
    return text + " signature=" + (verified ? "ok" : "bad") + " signer=" + (authorized ? "authorized" : "not-authorized") + " nonce=" + nonceText;
  }

  private static X509Certificate read(String file) throws Exception {
    try (FileInputStream in = new FileInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }
}
