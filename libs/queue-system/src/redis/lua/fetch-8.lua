--[[
  Completes the jobs the worker finished since its last call (so that one round trip both
  acknowledges and fetches), moves due delayed jobs to their ready lists, then takes up to
  the worker's free slots:
  priorities high, normal, low in strict order; inside a priority, queues take turns, so
  that queues of the same priority share the worker. Each taken job gets a lease (deadline
  in `active`, token in the hash) and its attempt counted. A job without a hash of its own
  (see `includes/expand-compact-job`) is read with the others of its run from `specs`, and its token
  goes to `leases`: no call per job. `active` and `leases` hold one entry that is not a
  job, so that Redis keeps them as a skiplist and a hash table (see `includes/listpack-anchor`).
  A job that stalled before (its worker died while running it) runs alone: it is taken only
  by a worker running nothing else, and then nothing else is taken, so that a job that kills
  its process takes no innocent neighbour down with it.

  Input:
    KEYS[1] active zset         KEYS[2] delayed zset       KEYS[3] queues set
    KEYS[4] dedup hash          KEYS[5] metrics hash       KEYS[6] system_errors list
    KEYS[7] specs hash          KEYS[8] leases hash
    ARGV[1] key prefix
    ARGV[2] now (ms)
    ARGV[3] lease deadline (ms)
    ARGV[4] lease token prefix (unique per worker)
    ARGV[5] total free slots
    ARGV[6] jobs the worker is running now
    ARGV[7] number n of queues served, 0 for every queue of the namespace (KEYS[3])
    ARGV[8..7+n] names of the queues served
    ARGV[8+n] number m of queues with their own concurrency limit
    ARGV[9+n..8+n+2m] queue name, free slots of that queue
    ARGV[9+n+2m] time to keep a finished job (ms; 0 deletes it at once)
    ARGV[10+n+2m] number k of finished jobs without a result
    ARGV[11+n+2m..10+n+2m+2k] job id, lease token, ... of those
    ARGV[11+n+2m+2k..] job id, lease token, serialized result, ... of the other finished jobs

  Output:
    { next delayed due time or -1, completion replies (1 done, -1 lease not held, one per
      finished job in the order above), then per run of jobs taken from one ready list:
      queue, priority, number k of jobs, and k times: id, spec, attempt }; the lease token is
      '<token prefix>@<now>:<attempt>'. The attempt (counting this one) is a number when the job
      never stalled nor was put back and this is its first run (it started at ARGV[2]), else
      { attempt, first attempt time, stalls, requeues }: a short reply in the common case.
]]
--- @include "includes/batched"
--- @include "includes/complete-jobs"
--- @include "includes/dead-letter-job"
--- @include "includes/job-queue"
--- @include "includes/listpack-anchor"
--- @include "includes/ready-list"

local prefix, now, deadline, tokenPrefix = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local slots = tonumber(ARGV[5])
-- Lease tokens are '<token prefix>@<now>:<attempt>': a job without a hash of its own keeps
-- only its token, which so names when its first attempt started (see `expand-compact-job`). The token
-- of a first attempt, the usual case, is made once per call.
local leasePrefix = tokenPrefix .. '@' .. ARGV[2] .. ':'
local firstLease = leasePrefix .. '1'
local priorities = { 'high', 'normal', 'low' }

local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, jobId in ipairs(due) do
  local jobKey = prefix .. 'job:' .. jobId
  local placement = redis.call('HMGET', jobKey, 'queue', 'priority', 'spec')
  redis.call('ZREM', KEYS[2], jobId)
  local queue = jobQueue(placement[1], placement[3])
  if queue then
    redis.call('HSET', jobKey, 'state', 'waiting')
    redis.call('LPUSH', readyList(prefix, queue, placement[2]), jobId)
  elseif redis.call('EXISTS', jobKey) == 1 then
    -- Neither a queue field nor a readable spec: no queue to put it in, so it is kept aside.
    deadLetterJob(jobKey, jobId, KEYS[6], KEYS[4], KEYS[5], 'system_error', 'system_errors',
      'no queue to promote this delayed job to: no queue field and no readable spec header', now)
  end
end

local busy = tonumber(ARGV[6])
local cursor = 7
local function nextArg()
  cursor = cursor + 1
  return ARGV[cursor]
end
local queues = {}
local served = tonumber(ARGV[7])
for i = 1, served do
  queues[i] = nextArg()
end
if served == 0 then
  queues = redis.call('SMEMBERS', KEYS[3])
end
local limits = {}
for _ = 1, tonumber(nextArg()) do
  local queue = nextArg()
  limits[queue] = tonumber(nextArg())
end
local ttl = nextArg()
local acks, completed = completeJobs(prefix, ARGV[2], ttl, KEYS[1], KEYS[4], KEYS[7], KEYS[8], cursor + 1)
if completed > 0 then
  redis.call('HINCRBY', KEYS[5], 'processed', completed)
end

local free, empty = {}, {}
for i, queue in ipairs(queues) do
  free[i] = limits[queue] or slots
end

-- Takes up to `count` ids from the right of a ready list (its oldest), with RPOP's count form.
local function take(priority, queue, count)
  local ids = redis.call('RPOP', readyList(prefix, queue, priority), count)
  return ids or {}
end

local reply = { -1, acks }
-- Lengths kept by hand: `#t` searches the table each time, and these grow per job.
local replyLength, leased, leasedLength = 2, {}, 0
local sharedLeases, sharedLeasesLength = {}, 0
for _, priority in ipairs(priorities) do
  for i = 1, #queues do
    empty[i] = false
  end
  local progress = true
  while slots > 0 and progress do
    progress = false
    local open = 0
    for i = 1, #queues do
      if free[i] > 0 and not empty[i] then
        open = open + 1
      end
    end
    -- Queues of one priority take turns: each gets an equal share of the free slots per pass.
    local share = math.max(1, math.floor(slots / math.max(open, 1)))
    for i, queue in ipairs(queues) do
      if slots > 0 and free[i] > 0 and not empty[i] then
        local ids = take(priority, queue, math.min(share, free[i], slots))
        if #ids == 0 then
          empty[i] = true
        else
          progress = true
        end
        -- The run's header; its count is filled in below, and a run of none is dropped.
        local runAt = replyLength
        reply[runAt + 1], reply[runAt + 2], reply[runAt + 3] = queue, priority, 0
        replyLength = runAt + 3
        -- Jobs without a hash of their own have their spec in `specs`: one read for the run.
        local sharedSpecs = hmgetAll(KEYS[7], ids, #ids)
        for n, jobId in ipairs(ids) do
          -- What the reply gives of a job taken: its spec and its attempt (see Output).
          local spec, attempt, suspect = sharedSpecs[n], 1, false
          if spec and slots > 0 then
            -- No hash of its own: a first attempt, never stalled; its token goes to `leases`.
            sharedLeasesLength = sharedLeasesLength + 2
            sharedLeases[sharedLeasesLength - 1], sharedLeases[sharedLeasesLength] = jobId, firstLease
          else
            -- A job with a hash of its own, or any job once the slots are gone (then pushed
            -- back below). A job that never ran has no `attempts`: two fields are all to read.
            spec = nil
            local jobKey = prefix .. 'job:' .. jobId
            local job = slots > 0 and redis.call('HMGET', jobKey, 'spec', 'attempts') or {}
            if job[2] then
              local before = redis.call('HMGET', jobKey, 'firstAttemptAt', 'stalls', 'requeues')
              job[3], job[4], job[5] = before[1], before[2], before[3]
            end
            -- A hash without a spec (written by another version) is taken all the same, so that
            -- the worker reports it to system_errors instead of it vanishing from its list.
            if slots > 0 and not job[1] and redis.call('EXISTS', jobKey) == 1 then
              job[1] = ''
            end
            suspect = job[1] and tonumber(job[4] or 0) > 0
            if slots == 0 or (suspect and (busy + leasedLength) > 0) then
              -- Not taken now: back first in line, in their order, and this queue rests.
              for back = #ids, n, -1 do
                redis.call('RPUSH', readyList(prefix, queue, priority), ids[back])
              end
              empty[i] = true
              break
            end
            -- A hash gone while its id waited (purged, expired) is skipped: no spec.
            if job[1] then
              spec = job[1]
              local attempts, lease = 1, firstLease
              if job[2] then
                attempts = tonumber(job[2]) + 1
                lease = leasePrefix .. attempts
              end
              local firstAttemptAt = job[3]
              local firstRun = not firstAttemptAt or firstAttemptAt == ''
              if firstRun then
                firstAttemptAt = now
                -- ARGV[2], not `now`: a string goes to Redis as it is, a number is formatted.
                redis.call('HSET', jobKey, 'state', 'active', 'lease', lease, 'attempts', attempts,
                  'firstAttemptAt', ARGV[2])
              else
                redis.call('HSET', jobKey, 'state', 'active', 'lease', lease, 'attempts', attempts)
              end
              if firstRun and not job[4] and not job[5] then
                attempt = attempts
              else
                attempt = { attempts, firstAttemptAt, job[4] or 0, job[5] or 0 }
              end
            end
          end
          if spec then
            leased[leasedLength + 1], leased[leasedLength + 2] = deadline, jobId
            leasedLength = leasedLength + 2
            reply[replyLength + 1], reply[replyLength + 2], reply[replyLength + 3] = jobId, spec, attempt
            replyLength = replyLength + 3
            reply[runAt + 3] = reply[runAt + 3] + 1
            slots = suspect and 0 or slots - 1
            free[i] = free[i] - 1
          end
        end
        if reply[runAt + 3] == 0 then
          reply[runAt + 3], reply[runAt + 2], reply[runAt + 1] = nil, nil, nil
          replyLength = runAt
        end
      end
    end
  end
end
-- The anchor rides along with the leases written (see `listpack-anchor`).
if sharedLeasesLength > 0 then
  sharedLeasesLength = sharedLeasesLength + 2
  sharedLeases[sharedLeasesLength - 1], sharedLeases[sharedLeasesLength] = LISTPACK_ANCHOR, 1
end
callChunked('HSET', KEYS[8], sharedLeases, 1, sharedLeasesLength)
-- One ZADD for all leases of the call: far cheaper than one per job.
if leasedLength > 0 then
  leasedLength = leasedLength + 2
  leased[leasedLength - 1], leased[leasedLength] = '+inf', LISTPACK_ANCHOR
end
callChunked('ZADD', KEYS[1], leased, 1, leasedLength)

local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if nextDue[2] then
  reply[1] = tonumber(nextDue[2])
end
return reply
