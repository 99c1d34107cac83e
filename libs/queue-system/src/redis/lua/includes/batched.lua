-- Whole-batch commands, sent in chunks of at most 1,000 arguments: Lua's `unpack` fails past
-- a few thousand values, and a batch can be as large as a worker's slots or a caller's list.

-- Runs `command key list[first..last]` chunk by chunk, for commands whose reply is not needed.
-- Pairs (field, value or score, member) stay together: chunks are of an even length.
local function callChunked(command, key, list, first, last)
  for from = first, last, 1000 do
    redis.call(command, key, unpack(list, from, math.min(from + 999, last)))
  end
end

-- HMGET of `count` fields of `key`: one value per field, false where there is none.
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
