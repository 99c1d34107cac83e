--[[
  Applies a rate limit declared in code (`@Processor(name, { rateLimit })`) at boot. The
  declaration is remembered beside the limit, so a boot with the same declaration writes
  nothing: the bucket keeps its tokens, and a limit set or removed at run time since then
  (`setRateLimit`, `removeRateLimit`) stays in force until the declaration itself changes.
  A changed declaration replaces the limit as `set-rate-limit` does, keeping the tokens left.

  Input:
    KEYS[1] gates hash   KEYS[2] wake list
    ARGV[1] key prefix
    ARGV[2] queue name
    ARGV[3] '<max>:<duration ms>:<burst>'
  Built from the prefix:
    ready lists `ready:<priority>:<queue>` and rotations `rotation:<priority>:<queue>` (counted to wake workers)

  Output:
    1 when the limit was written, 0 when the declaration was already applied
]]
--- @include "includes/wake-for-queue"

local prefix, queue, spec = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', KEYS[1], 'declared:' .. queue) == spec then
  return 0
end
redis.call('HSET', KEYS[1], 'declared:' .. queue, spec, 'rate:' .. queue, spec)
wakeForQueue(prefix, KEYS[2], queue)
return 1
