-- Out-of-process read load for the catalog bench (internal/bench/wrk.go).
-- Arguments after "--": a file of request paths, one a line; a mode, "uniform" (every path
-- equally likely) or "zipf" (the k-th path with probability proportional to 1/k^s); s.
local paths = {}
local cdf = nil
local mode = "uniform"

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  mode = args[2] or "uniform"
  -- Each thread draws its own sequence.
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003))
  if mode == "zipf" then
    local s = tonumber(args[3] or "1.1")
    cdf = {}
    local sum = 0
    for k = 1, #paths do
      sum = sum + 1 / (k ^ s)
      cdf[k] = sum
    end
    for k = 1, #paths do
      cdf[k] = cdf[k] / sum
    end
  end
  -- What a phone sends: the service may compress what it answers.
  wrk.headers["Accept-Encoding"] = "gzip"
end

local function zipf()
  local u = math.random()
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

function request()
  local i
  if mode == "zipf" then i = zipf() else i = math.random(#paths) end
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
