-- The grid's live refresh as browsers do it: each connection is one open doctor page that
-- polls its grid as htmx, sending back the ETag it last got (If-None-Match), so that an
-- unchanged grid is a 304. Connection n polls the n-th path of the file (round the list).
-- One connection per thread (wrk -tN -cN). Used as: wrk ... -s poll.lua URL -- PATHS_FILE
local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  local paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  path = paths[(id - 1) % #paths + 1]
  etag = nil
  statuses = {}
end

function request()
  local headers = {["HX-Request"] = "true"}
  if etag then headers["If-None-Match"] = etag end
  return wrk.format("GET", path, headers)
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
  etag = hdrs["ETag"] or hdrs["etag"] or etag
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, string.format('"%d": %d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %f, ' ..
    '"socket_errors": %d, "statuses": {%s}, "wrapped": 0}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
