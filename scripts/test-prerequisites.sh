#!/usr/bin/env bash
# What the test suite needs besides npm packages, on a Debian machine of this project's kind: the Debian
# packages the tests call (installed when missing, as root), and PostgreSQL and Redis on localhost
# (started when installed but down). Run by `npm test` (pretest) and by .ci/run; a no-op when all is there.
set -euo pipefail

# openssl (test PKIs, the interop client), curl, SoftHSM2 and pkcs11-tool (the PKCS#11 signer's tests),
# the compiler npm uses to build pkcs11js, and the other OCSP clients: GnuTLS's ocsptool, NSS, Java and Bouncy Castle.
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v softhsm2-util >/dev/null || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null || missing+=(opensc)
command -v g++ >/dev/null || missing+=(g++ make python3)
command -v redis-server >/dev/null || missing+=(redis-server)
# Other OCSP clients the HTTP layer is tested with: GnuTLS's ocsptool and Java's HttpURLConnection.
command -v ocsptool >/dev/null || missing+=(gnutls-bin)
command -v java >/dev/null || missing+=(default-jre-headless)
# systemd-analyze verifies deploy/systemd/vouch.service (test/e2e/deploy-files.test.ts).
command -v systemd-analyze >/dev/null || missing+=(systemd)
# NSS's ocspclnt and vfychain, Java's PKIX revocation checker (compiled with javac) and Bouncy Castle
# (test/e2e/more-clients.test.ts).
command -v ocspclnt >/dev/null || missing+=(libnss3-tools)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
# OpenLDAP's slapd: the LDAP CRL distribution point of test/e2e/crl-ldap.test.ts (started there with a throwaway config).
[ -x /usr/sbin/slapd ] || missing+=(slapd)
for jar in bcprov bcpkix bcutil; do [ -f "/usr/share/java/${jar}.jar" ] || missing+=("lib${jar}-java"); done
if ((${#missing[@]} > 0)); then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "test prerequisites: missing Debian packages: ${missing[*]} (install them with apt-get as root)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
fi

# Services the suites use: start them when this machine has them but they are down.
if command -v pg_ctlcluster >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /tmp >/dev/null || true
fi
