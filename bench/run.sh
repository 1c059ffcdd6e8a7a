#!/usr/bin/env bash
# bench/run.sh [SECONDS=10] [CONNECTIONS=8] - Vouch vs. OpenSSL's own OCSP responder, on loopback.
#
# For each signer key type (ECDSA P-256, RSA-2048, ML-DSA-65; delegated responder certificate with
# OCSPSigning + ocsp-nocheck; the ML-DSA-65 signer is issued by a P-256 CA) it generates one PKI and one
# request (single certificate, with a nonce, so every response is signed live) and loads, one after the
# other, with the same wrk script (ML-DSA-65: the Vouch scenarios only, as OpenSSL 3.0's responder cannot
# sign ML-DSA; its yardstick is the bare signature rate of one core, bench/ml-dsa-speed.ts):
#   openssl      `openssl ocsp -index … -port …` (one process; HTTP/1.0, one connection per request)
#   openssl-m2   the same with `-multi 2` (two forked responder processes)
#   vouch-ka     Vouch, HTTP/1.1 keep-alive (wrk's default)
#   vouch-close  Vouch, one connection per request (`Connection: close`)
#   vouch-w2     (only when named in SCENARIOS) Vouch with `--workers 2` (two worker processes sharing the
#                port), keep-alive; compared with openssl-m2 and with `openssl speed -multi 2` (issue #5)
#   vouch-t2     Vouch with `--workers 2 --worker-threads`: ONE process
#                whose two worker threads share the port, keep-alive; compared with both OpenSSL scenarios
#   vouch-t2-close  (only when named in SCENARIOS) the same, one connection per request (issue 18)
#   vouch-default / vouch-default-ka  the default `vouch serve` (no --workers: one worker process per
#                CPU), one connection per request / keep-alive (issue 18)
#   node-floor   a trivial node:http server (bench/node-floor-server.mjs) returning a fixed body of the
#                size of Vouch's response, one connection per request: the Node floor (issue 18)
#   vouch-signed-billed  (only when named in SCENARIOS) Vouch, keep-alive, requests signed by an ECDSA
#                P-256 requestor, requestSignature required + byname authorization + billing to
#                PostgreSQL (BENCH_PG); compared with vouch-ka (issue #3: goal >= 0.6 of its req/s)
# and prints requests/s, p50/p99 latency, server CPU µs per request, RSS and Vouch/OpenSSL ratios as a
# Markdown table, also written to bench/results/latest.md. See bench/README.md.
#
# Env: RUNS=1 (median of RUNS runs per figure)   THREADS=1 (wrk threads)   WARMUP=2 (s of unmeasured
#      load before each Vouch run; 0 = none)     KEY_TYPES="ecdsa-p256 rsa-2048 ml-dsa-65"
#      SCENARIOS="openssl openssl-m2 vouch-ka vouch-close vouch-t2 vouch-default vouch-default-ka node-floor"
#      BENCH_DATA=/tmp/vouch-bench (generated
#      PKIs, logs; never in git)   BENCH_REGEN=1 (new PKIs)   OSSL_PORT=18080 VOUCH_PORT=18081
#      SPEED=1 (add `openssl speed` signing figures for context; 0 = skip)   PROFILE=1 (run Vouch with
#      `node --cpu-prof`, profiles in $BENCH_DATA/profiles; adds overhead, figures not comparable)
#      QUIET_WAIT=10 / QUIET_MAX_PCT=15 (before each run wait up to 10 s until other processes use
#      < 15% of the machine)   BENCH_PG=postgres://postgres@127.0.0.1:5432/test BENCH_PG_TABLE=vouch_bench_billing
#      (vouch-signed-billed's billing database and table; the table is dropped before each run and at exit)   VOUCH_ENTRY=bin/vouch.js (e.g. src/main.ts: run the sources with Node's type stripping, no build)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
export PATH="$REPO/node_modules/.bin:$PATH"   # the repository's Node 24 (devDependency "node")
export OPENSSL_CONF=/dev/null                 # no system openssl.cnf surprises, same for every openssl call
# shellcheck source=lib/vouch-config.sh
. "$HERE/lib/vouch-config.sh"              # write_bench_config: the Vouch configuration, shared with bench/instructions.sh

DUR=${1:-10}
CONN=${2:-8}
RUNS=${RUNS:-1}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-2}
KEY_TYPES=${KEY_TYPES:-ecdsa-p256 rsa-2048 ml-dsa-65}
SCENARIOS=${SCENARIOS:-openssl openssl-m2 vouch-ka vouch-close vouch-t2 vouch-default vouch-default-ka node-floor}
DATA=${BENCH_DATA:-/tmp/vouch-bench}
OSSL_PORT=${OSSL_PORT:-18080}
VOUCH_PORT=${VOUCH_PORT:-18081}
SPEED=${SPEED:-1}
PROFILE=${PROFILE:-0}
QUIET_WAIT=${QUIET_WAIT:-10}
QUIET_MAX_PCT=${QUIET_MAX_PCT:-15}
BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
BENCH_PG_TABLE=${BENCH_PG_TABLE:-vouch_bench_billing}
HOST=127.0.0.1

die() { echo "bench: $*" >&2; exit 2; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

is_uint "$DUR" && [ "$DUR" -ge 1 ] && [ "$DUR" -le 60 ] || die "SECONDS must be 1..60 (got $DUR)"
is_uint "$CONN" && [ "$CONN" -ge 1 ] && [ "$CONN" -le 1000 ] || die "CONNECTIONS must be 1..1000 (got $CONN)"
is_uint "$RUNS" && [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 9 ] || die "RUNS must be 1..9 (got $RUNS)"
is_uint "$THREADS" && [ "$THREADS" -ge 1 ] && [ "$THREADS" -le "$CONN" ] || die "THREADS must be 1..CONNECTIONS"
is_uint "$WARMUP" && [ "$WARMUP" -le 30 ] || die "WARMUP must be 0..30"
is_uint "$QUIET_WAIT" && [ "$QUIET_WAIT" -le 120 ] || die "QUIET_WAIT must be 0..120"
is_uint "$QUIET_MAX_PCT" && [ "$QUIET_MAX_PCT" -ge 1 ] || die "QUIET_MAX_PCT must be >= 1"
case $DATA in /|"$REPO"|"$REPO"/*) die "BENCH_DATA must be outside the repository (got $DATA)";; esac
[[ $BENCH_PG_TABLE =~ ^[a-z_][a-z0-9_]{0,43}$ ]] || die "BENCH_PG_TABLE must be a plain lower-case table name (got $BENCH_PG_TABLE)"

# ------------------------------------------------------------------ tools
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found${2:+: $2}"; }
need wrk "apt-get install -y wrk"
need openssl; need curl; need ss "apt-get install -y iproute2"; need awk; need ps
need cc "apt-get install -y gcc (builds the LD_PRELOAD loopback shim)"
need node "npm install (the repository's devDependency \"node\" provides Node 24)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 24 ] || die "Node >= 24 needed (found $(node --version)); run npm install"
want_vouch=0; want_pg=0
for s in $SCENARIOS; do case $s in vouch-*) want_vouch=1;; esac; if [ "$s" = vouch-signed-billed ]; then want_pg=1; fi; done
if [ "$want_pg" = 1 ]; then
  need psql "apt-get install -y postgresql-client (vouch-signed-billed checks and drops its billing table)"
  psql "$BENCH_PG" -qAtX -c 'SELECT 1' >/dev/null 2>&1 || die "PostgreSQL not reachable at $BENCH_PG (set BENCH_PG)"
fi
VOUCH_ENTRY=${VOUCH_ENTRY:-$REPO/bin/vouch.js}
VOUCH_WORKERS=${VOUCH_WORKERS:-${VOUCH_THREADS:-1}}   # vouch serve --workers N for the vouch-* scenarios but vouch-w2 (VOUCH_THREADS: old name)
if [ "$want_vouch" = 1 ] && [ "$VOUCH_ENTRY" = "$REPO/bin/vouch.js" ] && [ ! -s "$REPO/dist/main.js" ]; then
  die "Vouch is not built ($REPO/dist/main.js missing): run \`npm run build\` first (or VOUCH_ENTRY=src/main.ts)"
fi
[ "$want_vouch" = 0 ] || [ -s "$VOUCH_ENTRY" ] || die "VOUCH_ENTRY $VOUCH_ENTRY not found"
for s in $SCENARIOS; do case $s in openssl|openssl-m2|vouch-ka|vouch-close|vouch-w2|vouch-t2|vouch-t2-close|vouch-default|vouch-default-ka|node-floor|vouch-signed-billed) ;; *) die "unknown scenario $s";; esac; done
HZ=$(getconf CLK_TCK)

mkdir -p "$DATA/logs" "$HERE/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW="$DATA/logs/raw-$STAMP.tsv"
printf 'key_type\tscenario\trun\trps\tp50_us\tp99_us\tcpu_us_per_req\trss_kib\trequests\terrors\tserver_cpu_s\tother_cpu_pct\twrk_cpu_s\tsteal_pct\tdb_cpu_us_per_req\tbilled_rows\tidle_rss_kib\n' > "$RAW"

# ------------------------------------------------------------------ process bookkeeping
SERVER_PID=""
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }
tree_of() { local p; echo "$1"; for p in $(children_of "$1"); do tree_of "$p"; done; }

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid=$SERVER_PID kids k i
  kids=$(tree_of "$pid" | tail -n +2)
  # SIGTERM to all; a wedged `openssl ocsp -multi` does not always exit on it, so SIGKILL after 2 s
  for k in "$pid" $kids; do kill -TERM "$k" 2>/dev/null || true; done
  for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  for k in "$pid" $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
  SERVER_PID=""
}
pg() { psql "$BENCH_PG" -qAtX -v ON_ERROR_STOP=1 "$@"; }
drop_billing_table() { [ "$want_pg" = 1 ] || return 0; pg -c "DROP TABLE IF EXISTS $BENCH_PG_TABLE" >/dev/null 2>&1 || log "could not drop $BENCH_PG_TABLE"; }
cleanup() { stop_server; drop_billing_table; }
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# The listening socket(s) on PORT must all be loopback addresses.
assert_loopback_only() {
  local port=$1 addrs
  addrs=$(ss -Hltn "sport = :$port" | awk '{print $4}')
  [ -n "$addrs" ] || die "nothing listens on port $port"
  if echo "$addrs" | grep -qvE '^(127\.[0-9.]+|\[::ffff:127\.[0-9.]+\]|\[::1\]):[0-9]+$'; then
    die "port $port listens on a non-loopback address: $(echo $addrs)"
  fi
  echo "$addrs" | tr '\n' ' '
}

# ------------------------------------------------------------------ CPU / memory sampling (/proc)
# utime+stime of every process of the tree, plus cutime+cstime (children already reaped), in jiffies.
cpu_jiffies() {
  local t=0 p v
  for p in $(tree_of "$1"); do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
rss_kib() {
  local t=0 p v
  for p in $(tree_of "$1"); do
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# CPU (jiffies, as cpu_jiffies) of every PostgreSQL process on the machine (postmaster + backends; the
# billing sink's connection is one of the backends). Empty when no process named postgres is visible.
db_jiffies() {
  local pids p t=0 v
  pids=$(ps -C postgres -o pid= 2>/dev/null | tr -d ' ') || true
  [ -n "$pids" ] || { echo ""; return 0; }
  for p in $pids; do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
machine_busy() { awk '/^cpu / { print $2 + $3 + $4; exit }' /proc/stat; }   # user + nice + system, all cores
machine_steal() { awk '/^cpu / { print $9; exit }' /proc/stat; }               # time the hypervisor gave to others

# ------------------------------------------------------------------ one-time setup
log "data: $DATA (PKIs, logs)"
SHIM="$DATA/loopback-bind.so"
cc -shared -fPIC -O2 -Wall -o "$SHIM" "$HERE/lib/loopback-bind.c" -ldl || die "cannot build the loopback shim"
log "built $SHIM"
# shellcheck disable=SC2086
node "$HERE/pki.ts" "$DATA" $KEY_TYPES

# ------------------------------------------------------------------ servers
wait_ready() { # URL_OR_EMPTY pid log; POST the request (or GET URL) until 200, max 30 s
  local url=$1 pid=$2 logf=$3 i code
  for i in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "server exited during start-up (log: $logf)"; }
    if [ "$url" = post ]; then
      code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/ocsp-request' \
        --data-binary @"$REQ" "http://$HOST:$PORT/" 2>/dev/null || true)
    else
      code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)
    fi
    [ "$code" = 200 ] && return 0
    sleep 0.1
  done
  die "server not ready after 30 s (log: $logf)"
}

start_openssl() { # multi(0|2) logfile
  local multi=$1 logf=$2 args
  PORT=$OSSL_PORT
  port_free "$PORT" || die "port $PORT is in use (set OSSL_PORT)"
  args=(ocsp -index "$PKI_INDEX" -CA "$PKI_CA" -rsigner "$PKI_SIGNER" -rkey "$PKI_SIGNER_KEY" -port "$PORT" -nmin 60)
  [ "$multi" -gt 0 ] && args+=(-multi "$multi")
  LD_PRELOAD="$SHIM" BENCH_SHIM_VERBOSE=1 openssl "${args[@]}" > "$logf" 2>&1 &
  SERVER_PID=$!
  wait_ready post "$SERVER_PID" "$logf"
  LISTEN=$(assert_loopback_only "$PORT")
  if [ "$multi" -gt 0 ]; then   # the -multi children must be up before memory and CPU are read
    for _ in $(seq 50); do [ "$(children_of "$SERVER_PID" | wc -l)" -ge "$multi" ] && break; sleep 0.1; done
  fi
}

start_vouch() { # logfile [plain|signed-billed [workers [threads]]]
  local logf=$1 variant=${2:-plain} workers=${3:-$VOUCH_WORKERS} threads=${4:-} cfg="$PKI_DIR/vouch-bench.yaml" nodeargs=() extra=()
  [ "$threads" = threads ] && extra=(--worker-threads)
  PORT=$VOUCH_PORT
  port_free "$PORT" || die "port $PORT is in use (set VOUCH_PORT)"
  if [ "$variant" = signed-billed ]; then
    cfg="$PKI_DIR/vouch-bench-signed-billed.yaml"
    write_bench_config "$cfg" "$HOST" "$PORT" "bench/run.sh (scenario vouch-signed-billed)" signed "\
    requestSignature: { required: true }
    authorization: { method: byname, names: [\"CN=Bench Requestor,*\"] }
    billing: { sink: postgres, connectionString: \"$BENCH_PG\", table: $BENCH_PG_TABLE, perCert: true }
" "\
trust:
  anchors: [$PKI_ROOT]
  unknownStatus: pass        # the bench root publishes no CRL, so its CA's status is unknown
"
  else
    write_bench_config "$cfg" "$HOST" "$PORT" bench/run.sh
  fi
  if [ "$PROFILE" = 1 ]; then
    mkdir -p "$DATA/profiles"
    nodeargs=(--cpu-prof --cpu-prof-dir "$DATA/profiles" --cpu-prof-name "vouch-$CUR_KT-$CUR_SC-$CUR_RUN.cpuprofile")
  fi
  # workers "default": no --workers, as an operator starts it (one worker per CPU)
  if [ "$workers" = default ]; then workers=$(nproc); else extra+=(--workers "$workers"); fi
  node "${nodeargs[@]}" "$VOUCH_ENTRY" serve --config "$cfg" "${extra[@]}" > "$logf" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://$HOST:$PORT/healthz" "$SERVER_PID" "$logf"
  if [ "$workers" -gt 1 ]; then   # every worker must be up before memory and CPU are read
    for _ in $(seq 300); do [ "$(ss -Hltn "sport = :$PORT" | wc -l)" -ge "$workers" ] && break; sleep 0.1; done
  fi
  LISTEN=$(assert_loopback_only "$PORT")
}

# The Node floor: node:http answering every request with the same bytes, the size of Vouch's response
# (the one saved by a Vouch pre-flight of this key type; else OpenSSL's, written offline).
start_node_floor() { # logfile
  local logf=$1 resp="$PKI_DIR/floor-response.der"
  PORT=$VOUCH_PORT
  port_free "$PORT" || die "port $PORT is in use (set VOUCH_PORT)"
  if [ ! -s "$resp" ]; then
    openssl ocsp -index "$PKI_INDEX" -CA "$PKI_CA" -rsigner "$PKI_SIGNER" -rkey "$PKI_SIGNER_KEY" -reqin "$PKI_REQ" -respout "$resp" -nmin 60 >/dev/null 2>&1 \
      || die "cannot write a response for the Node floor"
  fi
  PORT=$PORT RESP_FILE=$resp node "$HERE/node-floor-server.mjs" > "$logf" 2>&1 &
  SERVER_PID=$!
  wait_ready post "$SERVER_PID" "$logf"
  LISTEN=$(assert_loopback_only "$PORT")
}

# One request, decoded and verified by openssl: HTTP 200, application/ocsp-response, successful,
# signature chain signer -> CA -> root, nonce echoed, certificate status good.
preflight() { # out_prefix
  local out=$1 meta
  meta=$(curl -s -m 10 -o "$out.resp.der" -w '%{http_code} %{content_type}' \
    -H 'Content-Type: application/ocsp-request' --data-binary @"$REQ" "http://$HOST:$PORT/") \
    || die "preflight: curl failed"
  [ "${meta%% *}" = 200 ] || die "preflight: HTTP ${meta%% *} from port $PORT"
  case ${meta#* } in application/ocsp-response*) ;; *) die "preflight: Content-Type '${meta#* }'";; esac
  if [ "${CUR_KT#ml-dsa}" != "$CUR_KT" ]; then   # OpenSSL 3.0 cannot verify ML-DSA: Node's crypto does
    node "$HERE/lib/verify-ml-dsa.ts" "$out.resp.der" "$REQ" "$PKI_CA" > "$out.preflight.txt" 2>&1 \
      || { cat "$out.preflight.txt" >&2; die "preflight: the ML-DSA response did not verify"; }
    cat "$out.preflight.txt"; return 0
  fi
  openssl ocsp -respin "$out.resp.der" -reqin "$REQ" -CAfile "$PKI_ROOT" -verify_other "$PKI_CA" \
    -resp_text > "$out.preflight.txt" 2>&1 || { cat "$out.preflight.txt" >&2; die "preflight: openssl ocsp rejected the response"; }
  grep -q 'OCSP Response Status: successful' "$out.preflight.txt" || die "preflight: not successful ($out.preflight.txt)"
  grep -q 'Response verify OK' "$out.preflight.txt" || die "preflight: signature not verified ($out.preflight.txt)"
  grep -q 'OCSP Nonce' "$out.preflight.txt" || die "preflight: no nonce in the response ($out.preflight.txt)"
  grep -q 'WARNING' "$out.preflight.txt" && die "preflight: openssl warned: $(grep WARNING "$out.preflight.txt")"
  [ "$(grep -c 'Cert Status: good' "$out.preflight.txt")" = 1 ] || die "preflight: expected one 'good' status ($out.preflight.txt)"
  grep -qi 'unauthorized\|sigRequired' "$out.preflight.txt" && die "preflight: unauthorized / sigRequired ($out.preflight.txt)"
  echo "HTTP 200, $(wc -c < "$out.resp.der") bytes, successful, signature + nonce OK, good"
}

# vouch-signed-billed: the unsigned request must be refused with sigRequired (so the signature is
# really checked), and the signed pre-flight request must have been billed as successful for
# CN=Bench Requestor.
preflight_signed() { # out_prefix
  local out=$1 code rows
  code=$(curl -s -m 10 -o "$out.unsigned.resp.der" -w '%{http_code}' -H 'Content-Type: application/ocsp-request' \
    --data-binary @"$PKI_REQ" "http://$HOST:$PORT/") || die "preflight: curl failed (unsigned request)"
  [ "$code" = 200 ] || die "preflight: HTTP $code for the unsigned request"
  openssl ocsp -respin "$out.unsigned.resp.der" -resp_text > "$out.unsigned.preflight.txt" 2>&1 || true
  grep -qi 'Responder Error: sigRequired\|Response Status: sigRequired' "$out.unsigned.preflight.txt" \
    || die "preflight: the unsigned request was not refused with sigRequired ($out.unsigned.preflight.txt)"
  for _ in $(seq 50); do   # the billing sink commits in groups: give it up to 5 s
    rows=$(billed_rows 2>/dev/null || echo 0)
    [ "$rows" -ge 1 ] && break
    sleep 0.1
  done
  [ "$rows" -ge 1 ] || die "preflight: the signed request was not billed (no successful row for CN=Bench Requestor in $BENCH_PG_TABLE)"
  echo "unsigned request refused with sigRequired; signed request billed ($rows row) to CN=Bench Requestor, status good"
}
# Successful rows billed to the bench requestor, each with its one certificate, good (perCert).
billed_rows() {
  pg -c "SELECT count(*) FROM $BENCH_PG_TABLE WHERE outcome = 'successful' AND requestor LIKE 'CN=Bench Requestor,%'
         AND jsonb_array_length(certificates) = 1 AND certificates->0->>'status' = 'good'"
}

# Wait (at most QUIET_WAIT seconds) until processes other than the idle server use less than
# QUIET_MAX_PCT % of the machine, measured over 1 s: other jobs on a shared box distort the figures.
quiet_wait() {
  local waited=0 b0 b1 j0 j1 other
  [ "$QUIET_WAIT" -gt 0 ] || return 0
  while :; do
    b0=$(machine_busy); j0=$(cpu_jiffies "$SERVER_PID"); sleep 1
    b1=$(machine_busy); j1=$(cpu_jiffies "$SERVER_PID")
    other=$(( (b1 - b0 - (j1 - j0)) * 100 / (HZ * $(nproc)) ))
    [ "$other" -lt "$QUIET_MAX_PCT" ] && break
    waited=$((waited + 1))
    if [ "$waited" -ge "$QUIET_WAIT" ]; then
      log "  quiet-wait: other processes still use ${other}% of the machine after ${waited} s; measuring anyway"; return 0
    fi
  done
  [ "$waited" -eq 0 ] || log "  quiet-wait: waited ${waited} s for other processes to calm down"
}

kv() { echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }

run_wrk() { # close(0|1) seconds out_file; wrk's own CPU seconds (user + sys) go to out_file.cpu
  local TIMEFORMAT='%U %S' rc=0
  { time BENCH_REQ="$REQ" BENCH_CLOSE="$1" timeout $(( $2 + 30 )) \
      wrk -t"$THREADS" -c"$CONN" -d"$2s" --timeout 5s --latency -s "$HERE/lib/ocsp-post.lua" "http://$HOST:$PORT/" \
      > "$3" 2>&1 || rc=$?; } 2> "$3.cpu"
  return "$rc"
}

measure() { # key_type scenario run
  local kt=$1 sc=$2 run=$3 close=0 pf prefix logf res j0 j1 b0 b1 s0 s1 rss cpu_s req errs cpu_us other steal t0 t1
  local d0="" d1="" db_us="" billed="" warm_req=0 want_rows idle_rss
  CUR_KT=$kt; CUR_SC=$sc; CUR_RUN=$run
  prefix="$DATA/logs/$STAMP-$kt-$sc-$run"; logf="$prefix.server.log"
  REQ=$PKI_REQ
  case $sc in
    openssl) start_openssl 0 "$logf" ;;
    openssl-m2) start_openssl 2 "$logf" ;;
    vouch-ka) start_vouch "$logf" ;;
    vouch-close) start_vouch "$logf"; close=1 ;;
    vouch-w2) start_vouch "$logf" plain 2 ;;
    vouch-t2) start_vouch "$logf" plain 2 threads ;;
    vouch-t2-close) start_vouch "$logf" plain 2 threads; close=1 ;;
    vouch-default) start_vouch "$logf" plain default; close=1 ;;
    vouch-default-ka) start_vouch "$logf" plain default ;;
    node-floor) start_node_floor "$logf"; close=1 ;;
    vouch-signed-billed)
      [ -s "${PKI_SIGNED_REQ:-}" ] || die "no signed request in $PKI_DIR (run bench/pki.ts again)"
      drop_billing_table   # Vouch creates it at start-up: one table per run, so its rows can be counted
      REQ=$PKI_SIGNED_REQ; start_vouch "$logf" signed-billed ;;
  esac
  log "$kt $sc run $run: pid $SERVER_PID listening on $LISTEN"
  if [ "$sc" = node-floor ]; then   # a fixed body: its nonce is not this request's; wrk checks status and OCSP status
    log "  node floor: serving $(wc -c < "$PKI_DIR/floor-response.der") bytes"
  else
    pf=$(preflight "$prefix")   # (a failure inside "log ... $(...)" would not stop the script)
    log "  preflight: $pf"
    # The Node floor answers with as many bytes as Vouch does.
    case $sc in vouch-ka|vouch-close) cp "$prefix.resp.der" "$PKI_DIR/floor-response.der" ;; esac
  fi
  idle_rss=$(rss_kib "$SERVER_PID")   # started, one request answered, no load yet
  if [ "$sc" = vouch-signed-billed ]; then pf=$(preflight_signed "$prefix"); log "  preflight: $pf"; fi
  if { [ "${sc%%-*}" = vouch ] || [ "$sc" = node-floor ]; } && [ "$WARMUP" -gt 0 ]; then
    run_wrk "$close" "$WARMUP" "$prefix.warmup.txt" || { cat "$prefix.warmup.txt" >&2; die "wrk warm-up failed"; }
    warm_req=$(kv requests "$(grep '^BENCH ' "$prefix.warmup.txt" || true)"); warm_req=${warm_req:-0}
  fi
  quiet_wait
  if [ "$sc" = vouch-signed-billed ]; then d0=$(db_jiffies); fi
  b0=$(machine_busy); s0=$(machine_steal); j0=$(cpu_jiffies "$SERVER_PID"); t0=$(date +%s%N)
  run_wrk "$close" "$DUR" "$prefix.wrk.txt" || { cat "$prefix.wrk.txt" >&2; die "wrk failed"; }
  j1=$(cpu_jiffies "$SERVER_PID"); b1=$(machine_busy); s1=$(machine_steal); t1=$(date +%s%N)
  if [ "$sc" = vouch-signed-billed ]; then d1=$(db_jiffies); fi
  rss=$(rss_kib "$SERVER_PID")
  stop_server
  res=$(grep '^BENCH ' "$prefix.wrk.txt") || { cat "$prefix.wrk.txt" >&2; die "no BENCH line from wrk"; }
  req=$(kv requests "$res")
  errs=$(( $(kv non200 "$res") + $(kv not_ocsp_ok "$res") + $(kv sock_errors "$res") ))
  if [ "$sc" = vouch-signed-billed ]; then
    # Every answered request must be in the table (Vouch flushes its billing before it exits):
    # pre-flight + warm-up + measured, at least (wrk does not count the requests in flight at its end).
    billed=$(billed_rows) || die "cannot count the rows of $BENCH_PG_TABLE"
    want_rows=$(( 1 + warm_req + req ))
    if [ "$billed" -lt "$want_rows" ]; then
      log "  WARNING: only $billed billed rows in $BENCH_PG_TABLE, expected at least $want_rows"; errs=$((errs + want_rows - billed))
    fi
    if [ -n "$d0" ] && [ -n "$d1" ]; then
      db_us=$(awk -v d="$((d1 - d0))" -v hz="$HZ" -v n="$req" 'BEGIN { printf "%.1f", (n > 0 ? d / hz * 1e6 / n : 0) }')
    fi
    drop_billing_table
  fi
  # server CPU; "other" = machine CPU used by neither the server nor wrk (noise), % of all cores
  # (vouch-signed-billed: PostgreSQL's CPU is part of the workload, not noise)
  read -r cpu_s cpu_us other steal < <(awk -v j="$((j1 - j0))" -v dbj="$(( ${d1:-0} - ${d0:-0} ))" -v hz="$HZ" -v n="$req" -v b="$((b1 - b0))" -v st="$((s1 - s0))" \
    -v w="$(( (t1 - t0) / 1000 ))" -v ncpu="$(nproc)" -v lg="$(awk '{ print $1 + $2 }' "$prefix.wrk.txt.cpu")" 'BEGIN {
      s = j / hz; o = b / hz - s - lg - dbj / hz; if (o < 0) o = 0
      printf "%.2f %.1f %.1f %.1f\n", s, (n > 0 ? s * 1e6 / n : 0), 100 * o / (w / 1e6 * ncpu), 100 * st / hz / (w / 1e6 * ncpu) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kt" "$sc" "$run" "$(kv rps "$res")" "$(kv p50_us "$res")" \
    "$(kv p99_us "$res")" "$cpu_us" "$rss" "$req" "$errs" "$cpu_s" "$other" "$(awk '{ print $1 + $2 }' "$prefix.wrk.txt.cpu")" "$steal" \
    "$db_us" "$billed" "$idle_rss" >> "$RAW"
  log "  rps=$(kv rps "$res") p50=$(kv p50_us "$res")us p99=$(kv p99_us "$res")us cpu/req=${cpu_us}us server_cpu=${cpu_s}s rss=${rss}KiB idle_rss=${idle_rss}KiB requests=$req errors=$errs other_cpu=${other}% steal=${steal}%${db_us:+ postgres_cpu/req=${db_us}us}${billed:+ billed_rows=$billed}"
  [ "$errs" = 0 ] || log "  WARNING: $errs failed responses (see $prefix.wrk.txt)"
}

# ------------------------------------------------------------------ context: raw signing speed
SPEED_TXT="$DATA/logs/speed-$STAMP.txt"
: > "$SPEED_TXT"
if [ "$SPEED" = 1 ]; then
  log "openssl speed (1 s per algorithm, one core) for context"
  for alg in ecdsap256 rsa2048; do
    line=$(timeout 60 openssl speed -seconds 1 -mr "$alg" 2>/dev/null | grep -E '^\+F[24]:' | tail -1 || true)
    [ -n "$line" ] && printf '%s\t%s\t%s\n' "$alg" "$(echo "$line" | cut -d: -f4)" "$(echo "$line" | cut -d: -f5)" >> "$SPEED_TXT"
  done
  # Issue 18's yardstick: the bare cost of Node's crypto.sign with a P-256 key (bench/sign-floor.ts --loop).
  timeout 60 node "$HERE/sign-floor.ts" --loop 1 >> "$SPEED_TXT" || log "sign-floor --loop failed"
  # Issue 15's yardstick for ML-DSA-65: the bare signature rate of one core with Node's crypto (no ML-DSA in `openssl speed` 3.0).
  case " $KEY_TYPES " in *" ml-dsa-65 "*)
    timeout 60 node "$HERE/ml-dsa-speed.ts" 1 ml-dsa-65 >> "$SPEED_TXT" || log "ml-dsa-speed failed" ;;
  esac
  # Issue #5's yardstick for vouch-w2: RSA-2048 signatures/s of two processes (the last +F2 line sums the children).
  case " $SCENARIOS " in *" vouch-w2 "*)
    line=$(timeout 60 openssl speed -seconds 1 -multi 2 -mr rsa2048 2>/dev/null | grep -E '^\+F2:' | tail -1 || true)
    [ -n "$line" ] && printf '%s\t%s\t%s\n' "rsa2048-multi2" "$(echo "$line" | cut -d: -f4)" "$(echo "$line" | cut -d: -f5)" >> "$SPEED_TXT" ;;
  esac
fi

# ------------------------------------------------------------------ the matrix
start_s=$(date +%s)
for run in $(seq "$RUNS"); do
  for kt in $KEY_TYPES; do
    # shellcheck disable=SC1090,SC1091
    . "$DATA/$kt/paths.env"
    for sc in $SCENARIOS; do
      case $kt:$sc in ml-dsa-*:openssl*) [ "$run" = 1 ] && log "$kt $sc: skipped (OpenSSL 3.0's responder cannot sign ML-DSA)"; continue ;; esac
      measure "$kt" "$sc" "$run"
    done
  done
done
log "matrix done in $(( $(date +%s) - start_s )) s"

{
  echo "date_utc=$(date -u +%FT%TZ)"
  echo "cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo) x $(nproc)"
  echo "kernel=$(uname -r)"
  echo "node=$(node --version)"
  echo "openssl=$(openssl version)"
  echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "vouch_entry=${VOUCH_ENTRY#"$REPO"/}"
  echo "vouch_commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" status --porcelain 2>/dev/null | grep -q . && echo ' (uncommitted changes)')"
  printf 'seconds=%s\nconnections=%s\nthreads=%s\nruns=%s\nwarmup_s=%s\nprofile=%s\n' "$DUR" "$CONN" "$THREADS" "$RUNS" "$WARMUP" "$PROFILE"
} > "$DATA/logs/env-$STAMP.txt"

node "$HERE/report.ts" "$RAW" "$DATA/logs/env-$STAMP.txt" "$SPEED_TXT" > "$HERE/results/latest.md"
cp "$RAW" "$HERE/results/latest.tsv"
cat "$HERE/results/latest.md"
log "written: bench/results/latest.md (raw: $RAW, logs: $DATA/logs/)"
if awk -F'\t' 'NR > 1 && $10 != 0 { bad = 1 } END { exit !bad }' "$RAW"; then
  log "FAILED: some responses were not HTTP 200 + OCSP successful (see the errors column)"; exit 1
fi
