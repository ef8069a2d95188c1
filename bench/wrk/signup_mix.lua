dofile("bench/wrk/report.lua")  -- the BENCH summary line
-- Residents opening an activity page, one in ten also signing up (a POST with a
-- CSRF token fetched once by bench/run.py, and a phone number of its own: 137,
-- the thread, the run (bench/run.py: a run on a reused site must not meet the
-- numbers of the last one, which the form refuses as already signed up) and
-- the thread's count of sign-ups).
-- wrk.lua args: <activity path> <occurrence id> <csrf token> <csrf cookie> <run>
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  path, occurrence, token, cookie, run = args[1], args[2], args[3], args[4], args[5]
  counter = 0
end

request = function()
  counter = counter + 1
  if counter % 10 == 0 then
    local phone = string.format("137%02d%02d%04d", id, tonumber(run), counter / 10)
    local body = "csrfmiddlewaretoken=" .. token .. "&occurrence=" .. occurrence ..
      "&name=%E5%B1%85%E6%B0%91" .. "&phone=" .. phone .. "&party_size=1&consent=on"
    return wrk.format("POST", path .. "signup/", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = "csrftoken=" .. cookie,
    }, body)
  end
  return wrk.format("GET", path)
end
