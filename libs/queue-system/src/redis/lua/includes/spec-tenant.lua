-- A job's tenant as its spec header names it (the header's ninth element, see
-- encodeJobSpecHeader): a compact job has no `tenant` field, its spec carries it. Nil for a
-- job without a tenant or a spec that cannot be read. Decoded only off the hot path.
local function specTenant(spec)
  if not spec then
    return nil
  end
  local ok, header = pcall(cjson.decode, string.match(spec, '^[^\n]*'))
  local tenant = ok and type(header) == 'table' and header[9]
  if type(tenant) == 'string' and tenant ~= '' then
    return tenant
  end
  return nil
end
