--[[
  Feeds a queue's breaker with the outcome of one of its jobs, for a processor configured with
  a breaker only. Closed: a failure counts (in `breakers`), a success resets the count; at the
  threshold the breaker opens: fetch leases none of the queue's jobs until the cool-down is
  over, then one trial job (half-open, see `includes/queue-gates`). With a failure rate, the
  outcomes also count in a window that starts with its first outcome; a failure opens the
  breaker once at least the minimum of jobs ended in the window and the share of failures
  reached the rate. The trial's success closes the breaker and wakes idle workers; its failure
  opens it again for a cool-down. Outcomes of jobs that ran while it opened change nothing.

  Input:
    KEYS[1] gates hash   KEYS[2] breakers hash   KEYS[3] wake list
    ARGV[1] key prefix
    ARGV[2] queue name
    ARGV[3] 1 the job succeeded, 0 it failed
    ARGV[4] now (ms)
    ARGV[5] consecutive failures that open the breaker, or '' for none
    ARGV[6] cool-down (ms)
    ARGV[7] failure rate (0 to 1) that opens the breaker, or '' for none
    ARGV[8] the failure rate's window (ms)
    ARGV[9] the fewest outcomes in the window the failure rate counts on
  Built from the prefix:
    ready lists `ready:<priority>:<queue>` and rotations `rotation:<priority>:<queue>` (counted when the breaker closes)

  Output:
    the breaker's state after this outcome: 'closed' or 'open'
]]
--- @include "includes/wake-for-queue"

-- Counts one outcome in the queue's window ('<start>:<ended>:<failed>' in `breakers`);
-- true when the failure rate is reached.
local function rateReached(key, queue, failed, now, rate, window, minimum)
  local field = 'window:' .. queue
  local start, ended, failures = 0, 0, 0
  local stored = redis.call('HGET', key, field)
  if stored then
    start, ended, failures = string.match(stored, '^(%d+):(%d+):(%d+)$')
    start, ended, failures = tonumber(start), tonumber(ended), tonumber(failures)
  end
  if now >= start + window then
    start, ended, failures = now, 0, 0
  end
  ended = ended + 1
  if failed then
    failures = failures + 1
  end
  redis.call('HSET', key, field, string.format('%d:%d:%d', start, ended, failures))
  return failed and ended >= minimum and failures >= rate * ended
end

local prefix, queue, now = ARGV[1], ARGV[2], tonumber(ARGV[4])
local field = 'breaker:' .. queue
local state = redis.call('HGET', KEYS[1], field)
local trial = state and string.sub(state, 1, 6) == 'trial:'
if state and not trial then
  return 'open'
end
local failed = ARGV[3] ~= '1'
if trial and not failed then
  redis.call('HDEL', KEYS[1], field)
  redis.call('HDEL', KEYS[2], 'window:' .. queue)
  wakeForQueue(prefix, KEYS[3], queue)
  return 'closed'
end
if not state then
  local opens = false
  if ARGV[7] ~= '' then
    opens = rateReached(KEYS[2], queue, failed, now, tonumber(ARGV[7]), tonumber(ARGV[8]),
      tonumber(ARGV[9]))
  end
  if not failed then
    redis.call('HDEL', KEYS[2], queue)
    return 'closed'
  end
  if ARGV[5] ~= '' and redis.call('HINCRBY', KEYS[2], queue, 1) >= tonumber(ARGV[5]) then
    opens = true
  end
  if not opens then
    return 'closed'
  end
end
redis.call('HDEL', KEYS[2], queue, 'window:' .. queue)
local coolDown = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], field, string.format('open:%d:%d', now + coolDown, coolDown))
return 'open'
