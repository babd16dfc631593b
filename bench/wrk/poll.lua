-- The grid's live refresh as browsers do it: GET the paths listed in a file (one a line) in
-- turn as htmx, sending back the ETag each path last answered with (If-None-Match), so that
-- an unchanged grid is a 304. One connection per thread (wrk -tN -cN), so that each answer
-- is known to be the one of the path just asked. Used as: wrk ... -s poll.lua URL -- PATHS_FILE
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  etags = {}
  i = 0
  statuses = {}
end

function request()
  i = i % #paths + 1
  local headers = {["HX-Request"] = "true"}
  if etags[i] then headers["If-None-Match"] = etags[i] end
  return wrk.format("GET", paths[i], headers)
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
  local etag = hdrs["ETag"] or hdrs["etag"]
  if etag then etags[i] = etag end
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
