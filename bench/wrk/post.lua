-- Each wrk thread is one client with one connection: it POSTs the lines of its own file
-- (client-<n>.txt: path TAB cookie TAB form body) in order, and counts the answers by status.
-- Used as: wrk -t16 -c16 ... -s post.lua URL -- DIR cyclic|once
-- "once": a client that runs out of lines starts again and says so (the run is too short
-- of free slots to be valid); "cyclic": the lines are meant to repeat (hot slots, baseline).
local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  reqs = {}
  for line in io.lines(args[1] .. "/client-" .. id .. ".txt") do
    local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    if path then
      table.insert(reqs, wrk.format("POST", path, {
        ["Cookie"] = cookie,
        ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body))
    end
  end
  cyclic = args[2] == "cyclic"
  n = 0
  wrapped = 0
  statuses = {}
end

function request()
  n = n + 1
  if n > #reqs then
    n = 1
    if not cyclic then wrapped = wrapped + 1 end
  end
  return reqs[n]
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  local wraps = 0
  for _, thread in ipairs(threads) do
    for status, k in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + k
    end
    wraps = wraps + thread:get("wrapped")
  end
  local parts = {}
  for status, k in pairs(total) do table.insert(parts, string.format('"%d": %d', status, k)) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %f, ' ..
    '"socket_errors": %d, "statuses": {%s}, "wrapped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, e.connect + e.read + e.write + e.timeout, table.concat(parts, ", "), wraps))
end
