--- @include "includes/tenant-keys"

-- Pushes `ids[from..to]` to a tenant's ready list with `command` (LPUSH: last in line; RPUSH:
-- first in line); a list that was empty joins the rotation. Returns the list's new length.
local function pushTenantReady(prefix, queue, priority, tenant, command, ids, from, to)
  local length = redis.call(command, tenantReadyList(prefix, queue, priority, tenant),
    unpack(ids, from, to))
  if length == to - from + 1 then
    redis.call('LPUSH', tenantRotation(prefix, queue, priority), tenant)
    redis.call('SET', prefix .. 'tenanted', 1)
  end
  return length
end
