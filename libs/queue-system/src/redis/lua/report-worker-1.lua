--[[
  A worker's entry in the list of live workers, written by its heartbeat: its statistics go
  to `worker:<id>`, which expires unless the next beats renew it, and its id to `workers`,
  scored by that expiry, so a reader lists the live ones without SCAN. Entries whose expiry
  passed (a process that died without leaving) are pruned here, a bounded batch per call.
  A ttl of 0 is a clean leave: the entry goes at once.

  Input:
    KEYS[1] workers zset
    ARGV[1] key prefix
    ARGV[2] now (ms since epoch)
    ARGV[3] ttl (ms), 0 to leave
    ARGV[4] worker id
    ARGV[5..] field, value, field, value, ...
  Built from the prefix:
    worker entries `worker:<id>`

  Output:
    the number of expired entries pruned
]]

local prefix, now, ttl, workerId = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local entry = prefix .. 'worker:' .. workerId

local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', prefix .. 'worker:' .. id)
end

if ttl == 0 then
  redis.call('ZREM', KEYS[1], workerId)
  redis.call('DEL', entry)
  return #expired
end

redis.call('DEL', entry)
redis.call('HSET', entry, unpack(ARGV, 5))
redis.call('PEXPIRE', entry, ttl)
redis.call('ZADD', KEYS[1], now + ttl, workerId)
return #expired
