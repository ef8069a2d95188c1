dofile("bench/wrk/report.lua")  -- the BENCH summary line
-- Residents opening an activity page, one in ten also signing up (a POST with a
-- CSRF token fetched once by bench/run.py, and a phone number of its own).
-- wrk.lua args: <activity path> <occurrence id> <csrf token> <csrf cookie>
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  path, occurrence, token, cookie = args[1], args[2], args[3], args[4]
  counter = 0
end

request = function()
  counter = counter + 1
  if counter % 10 == 0 then
    local phone = string.format("137%02d%06d", id, counter)
    local body = "csrfmiddlewaretoken=" .. token .. "&occurrence=" .. occurrence ..
      "&name=%E5%B1%85%E6%B0%91" .. "&phone=" .. phone .. "&party_size=1&consent=on"
    return wrk.format("POST", path .. "signup/", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = "csrftoken=" .. cookie,
    }, body)
  end
  return wrk.format("GET", path)
end
