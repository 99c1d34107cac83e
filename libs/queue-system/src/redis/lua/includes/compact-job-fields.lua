--- @include "includes/spec-tenant"

-- A compact job has no job hash: its spec waits in `specs` and, once fetched, its lease token
-- is in `leases` (fetch and ack read and write those a batch at a time). It is always on its
-- first attempt, and its token names the time that attempt started ('<worker>@<ms>:1'). A
-- tenant's job may be compact too: its spec header names its tenant. These are the fields its
-- job hash would hold, `tenant` included.
local function compactJobFields(spec, lease, state)
  local fields = { 'state', state, 'lease', lease, 'attempts', 1 }
  if spec then
    fields[#fields + 1], fields[#fields + 2] = 'spec', spec
    local tenant = specTenant(spec)
    if tenant then
      fields[#fields + 1], fields[#fields + 2] = 'tenant', tenant
    end
  end
  local startedAt = string.match(lease, '@(%d+):%d+$')
  if startedAt then
    fields[#fields + 1], fields[#fields + 2] = 'firstAttemptAt', startedAt
  end
  return fields
end
