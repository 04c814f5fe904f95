-- wrk script of bench/run.mjs: POST /v1/referrals with an inline household, every body a new
-- person (households are deduplicated by the head's identity: the last name varies).
--   wrk -t2 -c64 -d5s -s bench/referral.lua http://127.0.0.1:PORT/v1/referrals -- TAG TOKEN
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  tag = args[1] or "x"
  headers = {
    ["Authorization"] = "Bearer " .. (args[2] or ""),
    ["Content-Type"] = "application/json",
  }
  n = 0
end

function request()
  n = n + 1
  local day = 1 + n % 28
  local body = string.format(
    '{"platform":"artois","received_on":"2024-03-%02d","referrer_kind":"ccas",' ..
    '"referrer_name":"CCAS d\'Arras","reasons":["homelessness"],' ..
    '"household":{"platform":"artois","composition":"single_person","adults":1,"children":0,' ..
    '"housing_situation":"street","head":{"last_name":"Wrk%s%d-%d","first_name":"Bench",' ..
    '"birth_date":"1990-01-%02d","sex":"female"}}}',
    day, tag, tid, n, day)
  return wrk.format("POST", nil, headers, body)
end
