-- HMGET of `count` fields of `key`, in chunks of at most 1,000 fields (see `call-chunked`): one
-- value per field, false where there is none.
local function hmgetAll(key, fields, count)
  local values = {}
  for from = 1, count, 1000 do
    local part = redis.call('HMGET', key, unpack(fields, from, math.min(from + 999, count)))
    for k = 1, #part do
      values[from + k - 1] = part[k]
    end
  end
  return values
end
