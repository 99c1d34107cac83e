--[[
  Fetch: acks the jobs the worker completed since its last call (so that one round trip both
  acks and fetches), promotes due delayed jobs to their ready lists, then leases jobs up to the
  worker's free slots: priorities high, normal, low in strict order; inside a priority, queues
  take turns. Each leased job gets a lease (deadline in `active`, lease token in its job hash,
  or in `leases` for a compact job) and its attempt counted. `active` and `leases` hold an
  anchor (see `includes/listpack-anchor`). A job that stalled before runs alone: it is taken
  only by a worker running nothing else, and then nothing else is taken.

  Input:
    KEYS[1] active zset   KEYS[2] delayed zset   KEYS[3] queues set   KEYS[4] metrics hash
    KEYS[5] specs hash    KEYS[6] leases hash
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
    ARGV[9+n+2m] number p of preferred tenants, then their names (see `includes/lease-tenants`)
    ARGV[10+n+2m+p] time to keep a completed job (ms; 0 deletes it at once)
    ARGV[11+n+2m+p] number k of completed jobs without a result
    ARGV[12+n+2m+p..11+n+2m+p+2k] job id, lease token, ... of those
    ARGV[12+n+2m+p+2k..] job id, lease token, serialized result, ... of the other completed
      jobs
  Built from the prefix:
    job hashes `job:<id>`, ready lists `ready:<priority>:<queue>`, `dedup` (an acked job with a
    deduplication key), `system_errors` (a due delayed job with no queue), `gates` (the
    queue gates: paused, breaker, rate limit; see the include queue-gates), `events_listen`,
    `events_listen_ends` and `events` (while a process listens: see the include job-events);
    with tenants:
    `tenanted`, `tenant_policy`, `tenant_active`, `tenant_turn`, `tenant_tokens`, `wake`,
    tenants' ready lists `ready:<priority>:<queue>:t:<tenant>`, rotations
    `rotation:<priority>:<queue>`

  Output:
    { next delayed due time or -1, ack replies (1 completed, -1 lease not held, one per completed
      job in the order above), then per run of jobs leased from one ready list: queue,
      priority, number k of jobs, and k times: id, spec, attempt }; the lease token is
      '<token prefix>@<now>:<attempt>'. The attempt (counting this one) is a number when the job
      never stalled nor was put back and this is its first run (it started at ARGV[2]), else
      { attempt, first attempt time, stalls, requeues }: a short reply in the common case.
      The due time is brought forward to when a gated queue with waiting jobs, or a tenant
      skipped for its rate limit, may take again.
]]
--- @include "includes/complete-jobs"
--- @include "includes/promote-due-jobs"
--- @include "includes/lease-jobs"
--- @include "includes/queue-gates"
--- @include "includes/active-events"

-- Reads the request (see Input) into the call's lease batch: the queues served, what each may
-- take (`free`: its own limit, else every free slot), where the completions start in ARGV, and
-- what leasing needs. Lease tokens are '<token prefix>@<now>:<attempt>': a compact job keeps
-- only its token, which so names when its first attempt started (see
-- `includes/compact-job-fields`); the token of a first attempt, the usual case, is made once.
local function readFetchRequest()
  local queues, served, at, slots = {}, tonumber(ARGV[7]), 7, tonumber(ARGV[5])
  for i = 1, served do
    queues[i] = ARGV[at + i]
  end
  at = at + served + 1
  if served == 0 then
    queues = redis.call('SMEMBERS', KEYS[3])
  end
  local limits = {}
  for _ = 1, tonumber(ARGV[at]) do
    limits[ARGV[at + 1]] = tonumber(ARGV[at + 2])
    at = at + 2
  end
  local free = {}
  for i, queue in ipairs(queues) do
    free[i] = limits[queue] or slots
  end
  local preferred = {}
  for i = 1, tonumber(ARGV[at + 1]) do
    preferred[i] = ARGV[at + 1 + i]
  end
  at = at + 1 + #preferred
  local prefix, leasePrefix = ARGV[1], ARGV[4] .. '@' .. ARGV[2] .. ':'
  -- Lengths kept by hand: `#t` searches the table each time, and these grow per job.
  return {
    prefix = prefix, jobPrefix = prefix .. 'job:', now = tonumber(ARGV[2]), nowArg = ARGV[2],
    deadline = ARGV[3], slots = slots, busy = tonumber(ARGV[6]), queues = queues, free = free,
    ttl = ARGV[at + 1], completionsAt = at + 2, leasePrefix = leasePrefix,
    firstLease = leasePrefix .. '1', replyLength = 2, deadlines = {}, deadlinesLength = 0,
    compact = {}, compactLength = 0, specsKey = KEYS[5], preferred = preferred,
  }
end

local batch = readFetchRequest()
local prefix, now = batch.prefix, batch.nowArg
-- Gates, tenants and listeners: a namespace with none pays this one EXISTS per call, nothing
-- more.
local switches = redis.call('EXISTS', prefix .. 'gates', prefix .. 'tenanted',
  prefix .. 'events_listen', prefix .. 'events_listen_ends')
-- `every`: someone listens to `active` too; `cap`: to the acks' completions at least.
local every, cap, listens = false, false, 0
if switches > 0 then
  every, cap, listens = eventsCaps(prefix)
end
local events = cap and {} or nil
-- Besides the listeners' keys: 0, `gates` or `tenanted`, or both.
local flowKeys = switches - listens
local acks, completed = completeJobs(prefix, now, batch.ttl, KEYS[1], KEYS[5], KEYS[6],
  batch.completionsAt, events)
if completed > 0 then
  redis.call('HINCRBY', KEYS[4], 'processed', completed)
end
promoteDueJobs(prefix, KEYS[2], KEYS[4], batch.now)

local gated = flowKeys > 0 and gateQueues(batch, prefix .. 'gates') or nil
local reply = { -1, acks }
-- Tenants (see `includes/tenant-keys`): when `gates` is absent (no gated queue read), the one
-- key found is `tenanted`.
batch.tenanted = flowKeys == 2 or (flowKeys == 1 and gated == nil)
if batch.tenanted then
  batch.policies = redis.call('EXISTS', prefix .. 'tenant_policy') == 1
  batch.tenantShares, batch.tenantRoom, batch.tenantBuckets = {}, {}, {}
end
leaseJobs(batch, reply, KEYS[1], KEYS[6])
if events then
  if every then
    addActiveEvents(events, reply)
  end
  appendEvents(prefix, cap, events)
end

local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if nextDue[2] then
  reply[1] = tonumber(nextDue[2])
end
-- A tenant skipped for its empty bucket (see `includes/tenant-bucket`) is due at its next token.
if batch.tenantDueAt and (reply[1] == -1 or batch.tenantDueAt < reply[1]) then
  reply[1] = batch.tenantDueAt
end
if gated then
  settleGates(batch, gated, reply)
end
return reply
