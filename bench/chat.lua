-- wrk script for bench/: POSTs the JSON body from $BENCH_BODY to the URL's path, with
-- the request headers from $BENCH_HEADERS (one "name: value" per line: auth, and e.g.
-- anthropic-version for the translated target) or, when run by hand, a Bearer token
-- from $BENCH_TOKEN. At the end it prints one parseable BENCH_RESULT line (latencies in
-- microseconds).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local extra = os.getenv("BENCH_HEADERS")
if extra ~= nil then
  for line in extra:gmatch("[^\n]+") do
    local name, value = line:match("^%s*([^:]-)%s*:%s*(.-)%s*$")
    if name == nil or name == "" then
      error("BENCH_HEADERS: not a 'name: value' line: " .. line)
    end
    wrk.headers[name] = value
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%.0f duration_us=%.0f bytes=%.0f mean_us=%.1f " ..
    "p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f " ..
    "connect=%.0f read=%.0f write=%.0f status=%.0f timeout=%.0f\n",
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
