--[[
  Moves due delayed jobs to their ready lists, then takes up to the worker's free slots:
  priorities high, normal, low in strict order; inside a priority, one job per queue in
  turn, so that queues of the same priority share the worker. Each taken job gets a lease
  (deadline in `active`, token in the hash) and its attempt counted.

  Input:
    KEYS[1] active zset         KEYS[2] delayed zset       KEYS[3] queues set
    ARGV[1] key prefix
    ARGV[2] now (ms)
    ARGV[3] lease deadline (ms)
    ARGV[4] lease token prefix (unique per worker)
    ARGV[5] total free slots
    ARGV[6] number n of queues served, 0 for every queue of the namespace (KEYS[3])
    ARGV[7..6+n] names of the queues served
    ARGV[7+n] number m of queues with their own concurrency limit
    ARGV[8+n..7+n+2m] queue name, free slots of that queue

  Output:
    { next delayed due time or -1, job1, job2, ... } where each job is its HGETALL reply
]]
local prefix, now, deadline, tokenPrefix = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local slots = tonumber(ARGV[5])
local priorities = { 'high', 'normal', 'low' }

local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, jobId in ipairs(due) do
  local jobKey = prefix .. 'job:' .. jobId
  local placement = redis.call('HMGET', jobKey, 'queue', 'priority')
  redis.call('ZREM', KEYS[2], jobId)
  if placement[1] then
    redis.call('HSET', jobKey, 'state', 'waiting')
    redis.call('LPUSH', prefix .. 'ready:' .. placement[2] .. ':' .. placement[1], jobId)
  end
end

local served = tonumber(ARGV[6])
local queues = {}
if served == 0 then
  queues = redis.call('SMEMBERS', KEYS[3])
else
  for i = 1, served do
    queues[i] = ARGV[6 + i]
  end
end
local limits = {}
local limitsAt = 7 + served
for i = 1, tonumber(ARGV[limitsAt]) do
  limits[ARGV[limitsAt + 2 * i - 1]] = tonumber(ARGV[limitsAt + 2 * i])
end
local free = {}
for i, queue in ipairs(queues) do
  free[i] = limits[queue] or slots
end

local reply = { -1 }
for _, priority in ipairs(priorities) do
  local progress = true
  while slots > 0 and progress do
    progress = false
    for i, queue in ipairs(queues) do
      if slots > 0 and free[i] > 0 then
        local jobId = redis.call('RPOP', prefix .. 'ready:' .. priority .. ':' .. queue)
        if jobId then
          progress = true
          local jobKey = prefix .. 'job:' .. jobId
          if redis.call('EXISTS', jobKey) == 1 then
            local attempt = redis.call('HINCRBY', jobKey, 'attempts', 1)
            redis.call('HSETNX', jobKey, 'firstAttemptAt', now)
            redis.call('HSET', jobKey, 'state', 'active', 'lease', tokenPrefix .. ':' .. attempt,
              'startedAt', now)
            redis.call('ZADD', KEYS[1], deadline, jobId)
            reply[#reply + 1] = redis.call('HGETALL', jobKey)
            slots = slots - 1
            free[i] = free[i] - 1
          end
        end
      end
    end
  end
end

local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if nextDue[2] then
  reply[1] = tonumber(nextDue[2])
end
return reply
