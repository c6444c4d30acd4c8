-- wrk script for the GraphQL scenarios of bench/run.sh.
--
-- Env:
--   BODY_FILE    JSON request bodies, one per line; requests rotate over them
--   TOKEN        bearer token (optional)
--   EXPECT_CODE  when set, a response counts as expected only if its body
--                contains this error code (the bomb scenario); otherwise a
--                response is good when it is 2xx and has no "errors" member
--
-- done() prints one JSON line: requests, rps, latency percentiles (ms),
-- socket errors, non-2xx responses, GraphQL errors and unexpected answers.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local bodies = {}
local counter = 0
local expect = os.getenv("EXPECT_CODE")
if expect == "" then expect = nil end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local token = os.getenv("TOKEN")
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  local file = assert(io.open(os.getenv("BODY_FILE"), "r"))
  for line in file:lines() do
    if #line > 0 then table.insert(bodies, line) end
  end
  file:close()
  wrk.body = bodies[1]
  good, non2xx, gql_errors, unexpected, first_error = 0, 0, 0, 0, ""
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end

local function remember(status, body)
  if first_error == "" then
    first_error = tostring(status) .. " " .. string.sub(body, 1, 300)
  end
end

function response(status, headers, body)
  if expect then
    if string.find(body, expect, 1, true) then
      good = good + 1
    else
      unexpected = unexpected + 1
      remember(status, body)
    end
    return
  end
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    remember(status, body)
  elseif string.find(body, '"errors"', 1, true) then
    gql_errors = gql_errors + 1
    remember(status, body)
  else
    good = good + 1
  end
end

local function escape(text)
  return (string.gsub(text, '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return " "
  end))
end

function done(summary, latency, requests)
  local totals = { good = 0, non2xx = 0, gql_errors = 0, unexpected = 0 }
  local first = ""
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
    if first == "" then first = thread:get("first_error") or "" end
  end
  local errors = summary.errors
  local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,'
      .. '"max_ms":%.3f,"socket_errors":%d,"non2xx":%d,"gql_errors":%d,"unexpected":%d,'
      .. '"good":%d,"first_error":"%s"}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    socket_errors, totals.non2xx, totals.gql_errors, totals.unexpected,
    totals.good, escape(first)))
end
