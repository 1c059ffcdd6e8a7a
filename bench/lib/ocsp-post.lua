-- ocsp-post.lua - wrk script used by bench/run.sh.
--
-- POSTs one DER OCSP request (env BENCH_REQ) as application/ocsp-request and checks every response:
-- HTTP 200 and OCSPResponse.responseStatus = successful (0). BENCH_CLOSE=1 adds "Connection: close"
-- (one TCP connection per request). At the end it prints one machine-readable line:
--   BENCH requests=.. seconds=.. rps=.. p50_us=.. p99_us=.. ok=.. non200=.. not_ocsp_ok=.. sock_errors=..
--
-- OpenSSL 3.0's `openssl ocsp` responder spins at 100% CPU and stops answering after a client
-- connects and closes without sending a request. wrk's stock resolve() does exactly that (a test
-- connect to pick an address), so it is replaced by a lookup without the connect. The responder is
-- still restarted for every run, because wrk leaves idle connections behind when it stops.

function wrk.resolve(host, service)
  local addrs = wrk.lookup(host, service)
  assert(addrs ~= nil and #addrs > 0, "cannot resolve " .. tostring(host))
  wrk.addrs = { addrs[1] }
end

local path = assert(os.getenv("BENCH_REQ"), "BENCH_REQ (DER OCSP request file) is not set")
local fh = assert(io.open(path, "rb"))
local der = fh:read("*a")
fh:close()
assert(#der > 0, "empty request file " .. path)

wrk.method = "POST"
wrk.body = der
wrk.headers["Content-Type"] = "application/ocsp-request"
if os.getenv("BENCH_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end

-- Per-thread counters: globals, so that done() can collect them with thread:get().
ok_count, non200_count, bad_count = 0, 0, 0

-- Offset just after the outer SEQUENCE header (DER definite length), or nil.
local function after_header(body)
  if #body < 2 or body:byte(1) ~= 0x30 then return nil end
  local first = body:byte(2)
  if first < 0x80 then return 3 end
  local n = first - 0x80
  if n < 1 or n > 4 then return nil end
  return 3 + n
end

function response(status, headers, body)
  if status ~= 200 then
    non200_count = non200_count + 1
    return
  end
  local off = body and after_header(body)
  -- responseStatus ENUMERATED: tag 0x0A, length 1, value 0 = successful
  if off and body:byte(off) == 0x0A and body:byte(off + 1) == 0x01 and body:byte(off + 2) == 0x00 then
    ok_count = ok_count + 1
  else
    bad_count = bad_count + 1
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local ok, non200, bad = 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("ok_count")
    non200 = non200 + t:get("non200_count")
    bad = bad + t:get("bad_count")
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d ok=%d non200=%d not_ocsp_ok=%d " ..
    "sock_errors=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, ok, math.max(non200, e.status), bad,
    e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end
