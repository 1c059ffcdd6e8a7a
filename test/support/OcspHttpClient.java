import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Asks an OCSP responder the way Java's own revocation checker does (sun.security.provider.certpath.OCSP):
 * HttpURLConnection, POST with keep-alive reused across requests, and GET with the URL-encoded base64.
 * Usage: java OcspHttpClient.java URL REQUEST.der COUNT; prints one line per exchange: method, HTTP
 * status, content type and the response's hex.
 */
public class OcspHttpClient {
  public static void main(String[] args) throws Exception {
    byte[] request = Files.readAllBytes(Path.of(args[1]));
    int count = Integer.parseInt(args[2]);
    for (int i = 0; i < count; i++) {
      HttpURLConnection post = (HttpURLConnection) URI.create(args[0]).toURL().openConnection();
      post.setDoOutput(true);
      post.setRequestMethod("POST");
      post.setRequestProperty("Content-Type", "application/ocsp-request");
      post.setRequestProperty("Accept", "application/ocsp-response");
      try (OutputStream out = post.getOutputStream()) {
        out.write(request);
      }
      print("POST", post);
    }
    String encoded = URLEncoder.encode(Base64.getEncoder().encodeToString(request), StandardCharsets.UTF_8);
    HttpURLConnection get = (HttpURLConnection) URI.create(args[0] + "/" + encoded).toURL().openConnection();
    print("GET", get);
  }

  private static void print(String method, HttpURLConnection connection) throws Exception {
    byte[] body = connection.getInputStream().readAllBytes();
    System.out.println(method + " " + connection.getResponseCode() + " " + connection.getContentType() + " " + HexFormat.of().formatHex(body));
  }
}
