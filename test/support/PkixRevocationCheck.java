import java.io.FileInputStream;
import java.net.URI;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Java's own revocation checking, as an application using the JDK's PKIX CertPathValidator does it:
 * a PKIXRevocationChecker for the end entity only, OCSP with no fallback to CRLs, and the responder
 * URL overridden. Java sends GET for small requests; -Dcom.sun.security.ocsp.useget=false makes it POST.
 * Usage: java PkixRevocationCheck URL LABEL=ANCHOR.pem:LEAF.pem[,CA.pem...] ...
 * Prints one line per check: "LABEL VALID", "LABEL REVOKED <reason>" or "LABEL FAILED <reason> <message>".
 */
public class PkixRevocationCheck {
  public static void main(String[] args) throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    URI responder = URI.create(args[0]);
    for (int i = 1; i < args.length; i++) {
      String label = args[i].substring(0, args[i].indexOf('='));
      String[] parts = args[i].substring(label.length() + 1).split(":");
      X509Certificate anchor = read(factory, parts[0]);
      List<X509Certificate> path = new ArrayList<>();
      for (String file : parts[1].split(",")) path.add(read(factory, file));
      CertPath certPath = factory.generateCertPath(path);
      CertPathValidator validator = CertPathValidator.getInstance("PKIX");
      PKIXRevocationChecker checker = (PKIXRevocationChecker) validator.getRevocationChecker();
      checker.setOptions(EnumSet.of(PKIXRevocationChecker.Option.ONLY_END_ENTITY, PKIXRevocationChecker.Option.NO_FALLBACK));
      checker.setOcspResponder(responder);
      PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
      parameters.setRevocationEnabled(false);
      parameters.addCertPathChecker(checker);
      try {
        validator.validate(certPath, parameters);
        System.out.println(label + " VALID");
      } catch (CertPathValidatorException e) {
        if (e.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
          String reason = e.getCause() instanceof java.security.cert.CertificateRevokedException revoked ? revoked.getRevocationReason().name() : "?";
          System.out.println(label + " REVOKED " + reason);
        } else {
          System.out.println(label + " FAILED " + e.getReason() + " " + e.getMessage().replace('\n', ' '));
        }
      }
    }
  }

  private static X509Certificate read(CertificateFactory factory, String file) throws Exception {
    try (FileInputStream in = new FileInputStream(file)) {
      return (X509Certificate) factory.generateCertificate(in);
    }
  }
}
