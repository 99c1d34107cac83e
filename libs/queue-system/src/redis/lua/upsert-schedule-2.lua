--[[
  Upsert schedule: stores a schedule's definition and its next due time. The same definition
  again changes nothing, so every process may upsert its schedules at each boot; a changed
  definition with the same cron and time zone keeps the due time it had, so no tick is
  skipped or repeated by a redeploy.

  Input:
    KEYS[1] schedules hash   KEYS[2] schedule_due zset
    ARGV[1] schedule name
    ARGV[2] definition (JSON with at least `cron` and `timeZone`)
    ARGV[3] next due time (ms), used when the schedule is new or its timing changed
  Built from the prefix:
    nothing

  Output:
    0 when nothing changed, 1 when the definition was stored
]]
local name, definition = ARGV[1], ARGV[2]
local stored = redis.call('HGET', KEYS[1], name)
if stored == definition then
  return 0
end
local keepDue = false
if stored then
  local old, new = cjson.decode(stored), cjson.decode(definition)
  keepDue = old.cron == new.cron and old.timeZone == new.timeZone
    and redis.call('ZSCORE', KEYS[2], name) ~= false
end
redis.call('HSET', KEYS[1], name, definition)
if not keepDue then
  redis.call('ZADD', KEYS[2], ARGV[3], name)
end
return 1
