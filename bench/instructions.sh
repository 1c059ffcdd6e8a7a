#!/usr/bin/env bash
# bench/instructions.sh [SECONDS=15] [CONNECTIONS=4] - instructions per request of one server process
# (user space, all its threads: V8's compiler and GC threads included), counted by valgrind's callgrind
# while wrk loads it for SECONDS after WARMUP seconds of unmeasured load (V8 must optimise first; under
# valgrind a request costs ~50x its time, so both are long). Unlike req/s or CPU time, an instruction
# count hardly depends on what else the machine runs: it decides whether a change to the request path
# pays on a shared box, provided thousands of requests are measured (see bench/README.md: with a few
# hundred, V8's compilations and major GCs dominate). (`perf stat -e instructions` would count the
# kernel too, where hardware counters are available; on this machine's VM they are not.)
#
#   SERVER=vouch|node-floor|net-floor|sign-floor   CLOSE=1 (one connection per request) or 0 (keep-alive)
#   KEY_TYPE=ecdsa-p256   VOUCH_ENTRY=bin/vouch.js   VOUCH_ARGS="" (e.g. "--workers 2 --worker-threads")
#   NODE_ARGS="" (e.g. --max-semi-space-size=4)   BENCH_DATA=/tmp/vouch-bench   PORT=18091   WARMUP=40
#   TAG="" (names the output files, to run several side by side on other PORTs)
#
# Prints one line: server, requests measured, instructions per request (all threads, and the serving
# thread alone), RSS after the load. The callgrind output, one file per thread
# ($BENCH_DATA/instructions-<server>.callgrind.<part>-<thread>, thread 01 serves) is kept:
# `callgrind_annotate FILE | head -60`.
# Needs valgrind, wrk, Node 24.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
export PATH="$REPO/node_modules/.bin:$PATH" OPENSSL_CONF=/dev/null
DUR=${1:-15}; CONN=${2:-4}
SERVER=${SERVER:-vouch}; CLOSE=${CLOSE:-1}; KEY_TYPE=${KEY_TYPE:-ecdsa-p256}; WARMUP=${WARMUP:-40}
DATA=${BENCH_DATA:-/tmp/vouch-bench}; PORT=${PORT:-18091}
VOUCH_ENTRY=${VOUCH_ENTRY:-$REPO/bin/vouch.js}
# shellcheck source=lib/vouch-config.sh
. "$HERE/lib/vouch-config.sh"
command -v valgrind >/dev/null || { echo "bench: valgrind not found (apt-get install -y valgrind)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
node "$HERE/pki.ts" "$DATA" "$KEY_TYPE" >/dev/null
# shellcheck disable=SC1090,SC1091
. "$DATA/$KEY_TYPE/paths.env"
# shellcheck disable=SC2206
nodeargs=(${NODE_ARGS:-})
out="$DATA/instructions-$SERVER${TAG:+-$TAG}.callgrind"
rm -f "$out" "$out".*
# V8 writes the code it runs: valgrind must look for code written to the heap.
# Uninstrumented until the warm-up is over (callgrind_control -i on): the warm-up then runs ~10x faster.
# One profile per thread: the serving (main) thread's count apart from V8's compiler and GC helper threads,
# whose work under valgrind's slow clock is mostly the warm-up's compilations finishing late.
grind=(valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$out" --smc-check=all-non-file node)

! ss -Hltn "sport = :$PORT" | grep -q . || { echo "bench: port $PORT is in use (set PORT)" >&2; exit 2; }
log="$DATA/instructions-$SERVER${TAG:+-$TAG}.log"
case $SERVER in
  vouch)
    cfg="$DATA/$KEY_TYPE/vouch-instructions${TAG:+-$TAG}.yaml"
    write_bench_config "$cfg" 127.0.0.1 "$PORT" bench/instructions.sh
    # shellcheck disable=SC2086
    "${grind[@]}" "${nodeargs[@]}" "$VOUCH_ENTRY" serve --config "$cfg" ${VOUCH_ARGS:---workers 1} > "$log" 2>&1 & ;;
  node-floor)
    resp="$DATA/$KEY_TYPE/vouch-response.der"
    [ -s "$resp" ] || { echo "bench: run SERVER=vouch first (it saves $resp)" >&2; exit 2; }
    PORT=$PORT RESP_FILE=$resp "${grind[@]}" "${nodeargs[@]}" "$HERE/node-floor-server.mjs" > "$log" 2>&1 & ;;
  net-floor)
    resp="$DATA/$KEY_TYPE/vouch-response.der"
    [ -s "$resp" ] || { echo "bench: run SERVER=vouch first (it saves $resp)" >&2; exit 2; }
    PORT=$PORT RESP_FILE=$resp "${grind[@]}" "${nodeargs[@]}" "$HERE/net-floor-server.mjs" > "$log" 2>&1 & ;;
  sign-floor)
    "${grind[@]}" "${nodeargs[@]}" "$HERE/sign-floor.ts" "$PORT" > "$log" 2>&1 & ;;
  *) echo "bench: SERVER must be vouch, node-floor, net-floor or sign-floor" >&2; exit 2 ;;
esac
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 600); do   # under valgrind, on a busy machine, start-up takes minutes
  curl -s -m 5 -o "$DATA/instructions-resp${TAG:+-$TAG}.der" -H 'Content-Type: application/ocsp-request' --data-binary @"$PKI_REQ" "http://127.0.0.1:$PORT/" && break
  sleep 1
done
[ -s "$DATA/instructions-resp${TAG:+-$TAG}.der" ] || { echo "bench: the server did not answer (log: $log)" >&2; exit 1; }
if [ "$SERVER" = vouch ]; then cp "$DATA/instructions-resp${TAG:+-$TAG}.der" "$DATA/$KEY_TYPE/vouch-response.der"; fi
load() { BENCH_REQ="$PKI_REQ" BENCH_CLOSE="$CLOSE" wrk -t1 -c"$CONN" -d"$1s" --timeout 10s -s "$HERE/lib/ocsp-post.lua" "http://127.0.0.1:$PORT/" 2>&1 | grep '^BENCH'; }
[ "$WARMUP" = 0 ] || load "$WARMUP" > /dev/null
callgrind_control -i on "$pid" > /dev/null
callgrind_control -z "$pid" > /dev/null
line=$(load "$DUR")
callgrind_control -d "$pid" > /dev/null
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
requests=$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "requests" { print $2 }')
main=$(ls "$out".*-01 | tail -1)
part=${main%-01}
total=$(cat "$part"-* | awk '/^summary:/ { sum += $2 } END { print sum }')
serving=$(awk '/^summary:/ { print $2 }' "$main")
awk -v s="$SERVER" -v c="$CLOSE" -v n="$requests" -v t="$total" -v m="$serving" -v rss="$rss" -v f="$main" 'BEGIN {
  printf "%s close=%s requests=%d instructions_per_request=%.0f serving_thread=%.0f rss_under_valgrind_mib=%.1f profile=%s\n", s, c, n, t / n, m / n, rss / 1024, f }'
