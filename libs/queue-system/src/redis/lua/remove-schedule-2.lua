--[[
  Remove schedule: deletes a schedule's definition and its due time; jobs it enqueued stay.

  Input:
    KEYS[1] schedules hash   KEYS[2] schedule_due zset
    ARGV[1] schedule name
  Built from the prefix:
    nothing

  Output:
    1 when the schedule existed, else 0
]]
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
