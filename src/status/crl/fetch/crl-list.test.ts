import assert from "node:assert/strict";
import { test } from "node:test";
import { listedCrlUrls } from "./crl-list.ts";

const list = new URL("https://pki.example/crls/index.txt");

test("a text list: one URL per line, relative to the list, comments and blank lines skipped, repeats once", () => {
  const body = "# our CAs\r\nroot.crl\n\n  issuing-1.crl   # the 2026 CA\nhttps://other.example/ca.crl\nroot.crl\nldap://ldap.example/cn=CA?certificateRevocationList\n";
  assert.deepEqual(listedCrlUrls(body, list), ["https://pki.example/crls/root.crl", "https://pki.example/crls/issuing-1.crl", "https://other.example/ca.crl"]);
});

test("a directory index (nginx autoindex, Apache Indexes): its file links, not its parent, sub-folders or sort links", () => {
  const nginx = `<html>
<head><title>Index of /crls/</title></head>
<body>
<h1>Index of /crls/</h1><hr><pre><a href="../">../</a>
<a href="archive/">archive/</a>                                           07-Dec-2026 10:00       -
<a href="issuing%201.crl">issuing 1.crl</a>                                   07-Dec-2026 10:00    1234
<a href="root.crl">root.crl</a>                                           07-Dec-2026 10:00     512
</pre><hr></body>
</html>`;
  assert.deepEqual(listedCrlUrls(nginx, new URL("https://pki.example/crls/")), ["https://pki.example/crls/issuing%201.crl", "https://pki.example/crls/root.crl"]);
  const apache = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><body><table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href='?C=M;O=A'>Last modified</a></th></tr>
<tr><td><a href="/">Parent Directory</a></td></tr>
<tr><td><a href='ca.crl?x=1&amp;y=2'>ca.crl</a></td></tr></table></body></html>`;
  assert.deepEqual(listedCrlUrls(apache, new URL("http://pki.example/crls/")), ["http://pki.example/crls/ca.crl?x=1&y=2"]);
});
