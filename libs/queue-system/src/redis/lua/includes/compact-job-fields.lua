-- A compact job has no job hash: its spec waits in `specs` and, once fetched, its lease token
-- is in `leases` (fetch and ack read and write those a batch at a time). It is always on its
-- first attempt, and its token names the time that attempt started ('<worker>@<ms>:1'). These
-- are the fields its job hash would hold.
local function compactJobFields(spec, lease, state)
  local fields = { 'state', state, 'lease', lease, 'attempts', 1 }
  if spec then
    fields[#fields + 1], fields[#fields + 2] = 'spec', spec
  end
  local startedAt = string.match(lease, '@(%d+):%d+$')
  if startedAt then
    fields[#fields + 1], fields[#fields + 2] = 'firstAttemptAt', startedAt
  end
  return fields
end
