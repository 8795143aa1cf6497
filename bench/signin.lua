-- signin.lua: wrk script for bench/run. Posts the sign-in form, the way a
-- browser does after loading GET /signin: the masthead_csrf cookie and the
-- form's token are fetched once beforehand and passed in the environment
-- (BENCH_EMAIL, BENCH_PASSWORD, BENCH_CSRF_COOKIE, BENCH_CSRF). Every
-- request is a successful sign-in (303) that verifies the password with
-- argon2id and creates a session; the server must run with a --rate-limit
-- high enough not to answer 429.

local function enc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "masthead_csrf=" .. os.getenv("BENCH_CSRF_COOKIE")
wrk.body = "email=" .. enc(os.getenv("BENCH_EMAIL")) .. "&password=" .. enc(os.getenv("BENCH_PASSWORD")) ..
  "&csrf=" .. enc(os.getenv("BENCH_CSRF")) .. "&next=%2F"

local bad = 0

function response(status, headers, body)
  if status ~= 303 then
    bad = bad + 1
    if bad == 1 then
      io.stderr:write("signin.lua: status " .. status .. " (expected 303)\n")
    end
  end
end
