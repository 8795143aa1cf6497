-- sessions.lua: wrk script for bench/run. Reads the article as many
-- different members, one after another: the session tokens are the ones
-- bench/gen.py gives its members ("bench" and the member's number in 38
-- digits), BENCH_SESSIONS of them (three in five subscribe, so three
-- requests in five get the whole article and two the paywall). Each wrk
-- thread starts at its own place in the list. Every answer must be 200.

local n = tonumber(os.getenv("BENCH_SESSIONS") or "10000")
local csrf = os.getenv("BENCH_CSRF_COOKIE")
local reqs = {}
local at = 0
local bad = 0

function init(args)
  for i = 0, n - 1 do
    reqs[i + 1] = wrk.format("GET", wrk.path, {
      ["Cookie"] = string.format("masthead_session=bench%038d; masthead_csrf=%s", i, csrf),
    })
  end
  at = math.random(n) - 1
end

function request()
  at = at % n + 1
  return reqs[at]
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if bad == 1 then
      io.stderr:write("sessions.lua: status " .. status .. " (expected 200)\n")
    end
  end
end
