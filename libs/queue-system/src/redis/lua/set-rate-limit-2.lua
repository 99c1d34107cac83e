--[[
  Sets or removes a queue's rate limit for every process at once: a token bucket of `burst`
  tokens refilled by `max` every `duration` ms, from which fetch takes one token per job it
  leases (see `includes/queue-gates`). A new limit keeps the tokens left (capped at its burst);
  a removed one forgets them. Either wakes idle workers that may wait for a far token.

  Input:
    KEYS[1] gates hash   KEYS[2] wake list
    ARGV[1] key prefix
    ARGV[2] queue name
    ARGV[3] '<max>:<duration ms>:<burst>', or '' to remove the limit
  Built from the prefix:
    ready lists `ready:<priority>:<queue>` and rotations `rotation:<priority>:<queue>` (counted to wake workers)

  Output:
    1
]]
--- @include "includes/wake-for-queue"

local prefix, queue = ARGV[1], ARGV[2]
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], 'rate:' .. queue, 'tokens:' .. queue)
else
  redis.call('HSET', KEYS[1], 'rate:' .. queue, ARGV[3])
end
wakeForQueue(prefix, KEYS[2], queue)
return 1
