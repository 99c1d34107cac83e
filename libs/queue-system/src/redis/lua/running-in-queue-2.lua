--[[
  Counts the jobs of one queue running now in any process (read only): what `drainQueue`
  waits on. Reads each active job's queue, from its job hash or, for a compact job, from its
  spec in `specs`.

  Input:
    KEYS[1] active zset   KEYS[2] specs hash
    ARGV[1] key prefix
    ARGV[2] queue name
  Built from the prefix:
    job hashes `job:<id>`

  Output:
    the number of running jobs of that queue
]]
--- @include "includes/job-queue"

local prefix, queue = ARGV[1], ARGV[2]
-- Deadlines are finite: the entry at +inf is no job (see `includes/listpack-anchor`).
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(+inf')
local running = 0
for _, jobId in ipairs(ids) do
  local fields = redis.call('HMGET', prefix .. 'job:' .. jobId, 'queue', 'spec')
  local spec = fields[2] or redis.call('HGET', KEYS[2], jobId)
  if jobQueue(fields[1], spec) == queue then
    running = running + 1
  end
end
return running
