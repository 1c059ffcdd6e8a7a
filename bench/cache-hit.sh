#!/usr/bin/env bash
# bench/cache-hit.sh [SECONDS=10] [CONNECTIONS=8] - a `cached` responder answering from its response
# cache, side by side with `basic` live signing and a trivial Node HTTP server returning the same bytes
# (the HTTP ceiling), with the same wrk script, in the same run, rounds interleaved (issue #4 benchmark).
#
# One ECDSA P-256 PKI (bench/pki.ts), one request WITHOUT a nonce (so the cached responder can answer
# it from the cache; the basic responder signs it every time), one Vouch process serving both
# responders on one port (/c cached, /b basic), HTTP/1.1 keep-alive.
# OpenSSL's own responder (`openssl ocsp -index … -port`, one process, HTTP/1.0, a connection per request)
# signs the same PKI's request WITH a nonce live in the same rounds, started fresh for each round (a
# second wrk run wedges it, see run.sh): issue #4 asks for cache hits at >= 2x its requests/s.
# Env: RUNS=3 (rounds; each figure is the median)   OPENSSL_PORT=18183   BENCH_DATA=/tmp/vouch-bench-cache   PORT=18181
#      CEILING_PORT=18182   CEILING=../shared/bench/node-ceiling-server.mjs (falls back to a built-in one)
#      VOUCH_ENTRY=src/main.ts   VOUCH_WORKERS=1 (vouch serve --workers; the trivial server is one process)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
export PATH="$REPO/node_modules/.bin:$PATH" OPENSSL_CONF=/dev/null
DUR=${1:-10}; CONN=${2:-8}; RUNS=${RUNS:-3}
DATA=${BENCH_DATA:-/tmp/vouch-bench-cache}; PORT=${PORT:-18181}; CEILING_PORT=${CEILING_PORT:-18182}
CEILING=${CEILING:-$REPO/../shared/bench/node-ceiling-server.mjs}
VOUCH_ENTRY=${VOUCH_ENTRY:-$REPO/src/main.ts}
command -v wrk >/dev/null || { echo "bench: wrk not found (apt-get install -y wrk)" >&2; exit 2; }

mkdir -p "$DATA"
node "$HERE/pki.ts" "$DATA" ecdsa-p256 >/dev/null
# shellcheck disable=SC1091
source "$DATA/ecdsa-p256/paths.env"
PKI=$DATA/ecdsa-p256
openssl ocsp -issuer "$PKI/ca.pem" -cert "$PKI/good.pem" -no_nonce -reqout "$DATA/req-nononce.der" >/dev/null
openssl ocsp -issuer "$PKI/ca.pem" -cert "$PKI/good.pem" -reqout "$DATA/req-nonce.der" >/dev/null
OPENSSL_PORT=${OPENSSL_PORT:-18183}
SHIM="$DATA/loopback-bind.so"
cc -shared -fPIC -O2 -Wall -o "$SHIM" "$HERE/lib/loopback-bind.c" -ldl
cat > "$DATA/vouch.yaml" <<YAML
log: { level: warn }
responders:
  - name: cached
    type: cached
    listen: { host: 127.0.0.1, port: $PORT }
    path: /c
    responseCache:
      issuers: [{ issuer: "*", expiresAfter: PT1H }]
    issuers:
      - { certificate: $PKI/ca.pem, signer: { certificate: $PKI/ocsp-signer.pem, key: $PKI/ocsp-signer.key }, sources: [{ type: index, file: $PKI/index.txt }] }
  - name: basic
    listen: { host: 127.0.0.1, port: $PORT }
    path: /b
    reuseFor: PT0S   # every no-nonce request signed live: the yardstick the cache hit is measured against
    issuers:
      - { certificate: $PKI/ca.pem, signer: { certificate: $PKI/ocsp-signer.pem, key: $PKI/ocsp-signer.key }, sources: [{ type: index, file: $PKI/index.txt }] }
YAML

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
node "$VOUCH_ENTRY" serve --config "$DATA/vouch.yaml" --workers "${VOUCH_WORKERS:-1}" > "$DATA/vouch.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf -o "$DATA/cached.der" --data-binary @"$DATA/req-nononce.der" -H 'content-type: application/ocsp-request' "http://127.0.0.1:$PORT/c" && break; sleep 0.2; done
[ -s "$DATA/cached.der" ] || { echo "bench: vouch did not answer (see $DATA/vouch.log)" >&2; exit 1; }
if [ -f "$CEILING" ]; then
  PORT=$CEILING_PORT RESP_FILE="$DATA/cached.der" node "$CEILING" > "$DATA/ceiling.log" 2>&1 & pids+=($!)
else
  node -e "const b=require('fs').readFileSync('$DATA/cached.der');require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'application/ocsp-response'});s.end(b)})}).listen($CEILING_PORT,'127.0.0.1')" & pids+=($!)
fi
sleep 1

declare -A results
for round in $(seq "$RUNS"); do
  for scenario in cached basic ceiling openssl; do
    case $scenario in cached) url="http://127.0.0.1:$PORT/c";; basic) url="http://127.0.0.1:$PORT/b";; ceiling) url="http://127.0.0.1:$CEILING_PORT/";; openssl) url="http://127.0.0.1:$OPENSSL_PORT/";; esac
    if [ "$scenario" = openssl ]; then
      LD_PRELOAD="$SHIM" openssl ocsp -index "$PKI/index.txt" -CA "$PKI/ca.pem" -rsigner "$PKI/ocsp-signer.pem" -rkey "$PKI/ocsp-signer.key" \
        -port "$OPENSSL_PORT" -nmin 60 > "$DATA/openssl.log" 2>&1 & ossl=$!
      for _ in $(seq 50); do ss -ltn "sport = :$OPENSSL_PORT" | grep -q LISTEN && break; sleep 0.1; done
      # No warm-up: a C program has nothing to warm, and a second wrk run would wedge it.
      line=$(BENCH_REQ="$DATA/req-nonce.der" wrk -t1 -c"$CONN" -d"${DUR}s" -s "$HERE/lib/ocsp-post.lua" "$url" 2>&1 | grep '^BENCH' || true)
      kill "$ossl" 2>/dev/null || true; sleep 0.3; kill -9 "$ossl" 2>/dev/null || true; wait "$ossl" 2>/dev/null || true
      echo "round $round $scenario: $line" >&2
      results[$scenario]+="$(sed -E 's/.* rps=([0-9.]+) p50_us=([0-9]+).* p99_us=([0-9]+).*/\1 \2 \3/' <<<"$line");"
      continue
    fi
    # Unmeasured warm-up (V8 optimises the hot path), then the measured run.
    BENCH_REQ="$DATA/req-nononce.der" wrk -t1 -c"$CONN" -d2s -s "$HERE/lib/ocsp-post.lua" "$url" >/dev/null 2>&1 || true
    line=$(BENCH_REQ="$DATA/req-nononce.der" wrk -t1 -c"$CONN" -d"${DUR}s" -s "$HERE/lib/ocsp-post.lua" "$url" 2>&1 | grep '^BENCH' || true)
    echo "round $round $scenario: $line" >&2
    results[$scenario]+="$(sed -E 's/.* rps=([0-9.]+) p50_us=([0-9]+).* p99_us=([0-9]+).*/\1 \2 \3/' <<<"$line");"
  done
done
median() { tr ';' '\n' | grep -v '^$' | awk -v f="$1" '{print $f}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '\n| scenario | req/s | p50 µs | p99 µs | vs ceiling | vs openssl |\n|---|---|---|---|---|---|\n'
ceiling=$(median 1 <<<"${results[ceiling]}")
openssl_rps=$(median 1 <<<"${results[openssl]}")
for scenario in cached basic ceiling openssl; do
  rps=$(median 1 <<<"${results[$scenario]}")
  printf '| %s | %s | %s | %s | %.2f | %.2f |\n' "$scenario" "$rps" "$(median 2 <<<"${results[$scenario]}")" "$(median 3 <<<"${results[$scenario]}")" \
    "$(awk -v a="$rps" -v b="$ceiling" 'BEGIN{print a/b}')" "$(awk -v a="$rps" -v b="$openssl_rps" 'BEGIN{print (b > 0 ? a/b : 0)}')"
done
