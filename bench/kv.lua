-- One key, read or written at 100 bytes; WRK_METHOD=GET or PUT. With WRK_BODY, that JSON
-- body instead (etcd's gateway: WRK_METHOD=POST, bench/replicated.py).
-- At the end, one line of JSON for the harness (bench/kv.py) to read.
wrk.method = os.getenv("WRK_METHOD") or "GET"
if os.getenv("WRK_BODY") then
  wrk.body = os.getenv("WRK_BODY")
  wrk.headers["Content-Type"] = "application/json"
elseif wrk.method == "PUT" then
  wrk.body = string.rep("x", 100)
  wrk.headers["Content-Type"] = "application/octet-stream"
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d, ' ..
    '"p50": %f, "p99": %f}\n',
    summary.requests, summary.duration / 1e6,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50) / 1e6, latency:percentile(99) / 1e6))
end
