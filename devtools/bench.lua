-- wrk script for devtools/bench.py.
-- Arguments (after --): expected status, method, body, optional file of ID
-- tokens sent in turn as "Authorization: Bearer" (the sign-in exchange).
-- Counts the Firebase round trips the app reports in Server-Timing on every
-- response, and prints one "BENCH {json}" line at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected = tonumber(args[1])
  wrk.method = args[2]
  if args[3] ~= nil and args[3] ~= "" then
    wrk.body = args[3]
  end
  tokens = {}
  if args[4] ~= nil then
    for line in io.lines(args[4]) do
      table.insert(tokens, line)
    end
  end
  next_token, responses, unexpected, timed, firestore, auth = 0, 0, 0, 0, 0, 0
end

function request()
  if #tokens > 0 then
    next_token = next_token % #tokens + 1
    wrk.headers["Authorization"] = "Bearer " .. tokens[next_token]
  end
  return wrk.format()
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= expected then
    unexpected = unexpected + 1
  end
  local timing = headers["Server-Timing"]
  if timing ~= nil then
    timed = timed + 1
    firestore = firestore + tonumber(timing:match('firestore;desc="round trips";dur=(%d+)') or 0)
    auth = auth + tonumber(timing:match('auth;desc="round trips";dur=(%d+)') or 0)
  end
end

function done(summary, latency, requests)
  local totals = { responses = 0, unexpected = 0, timed = 0, firestore = 0, auth = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,'
      .. '"unexpected_status":%d,"responses":%d,"timed":%d,"firestore":%d,"auth":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout,
    totals.unexpected, totals.responses, totals.timed, totals.firestore, totals.auth
  ))
end
