-- wrk script for bench/loadtest.py: cycle through LOADTEST_PATHS (one a line), send the
-- proxy's X-Forwarded-Proto, count statuses per wall-clock second, print one JSON line.
local paths = {}
for path in string.gmatch(os.getenv("LOADTEST_PATHS") or "/", "[^\n]+") do
  paths[#paths + 1] = path
end
wrk.headers["X-Forwarded-Proto"] = "https"

local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  threads[#threads + 1] = thread
end

local index = 0
counts = {}  -- global: done() reads it from each thread with thread:get
function init(args)
  index = offset or 0
end

function request()
  index = index + 1
  return wrk.format("GET", paths[(index % #paths) + 1])
end

function response(status, headers, body)
  -- A flat table of "second status" -> count: wrk copies it to done() with thread:get.
  local key = os.time() .. " " .. status
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts")) do
      local second, status = string.match(key, "(%d+) (%d+)")
      merged[second] = merged[second] or {}
      merged[second][status] = (merged[second][status] or 0) + n
    end
  end
  local seconds = {}
  for second, row in pairs(merged) do
    local parts = {}
    for status, n in pairs(row) do
      parts[#parts + 1] = string.format('"%s": %d', status, n)
    end
    seconds[#seconds + 1] = string.format('"%s": {%s}', second, table.concat(parts, ", "))
  end
  local e = summary.errors
  io.write(string.format(
    'LOADTEST_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "socket_errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d}, "per_second": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout,
    table.concat(seconds, ", ")))
end
