-- Runs `command key list[first..last]` in chunks of at most 1,000 arguments, for commands whose
-- reply is not needed: Lua's `unpack` fails past a few thousand values, and a batch can be as
-- large as a worker's slots or a caller's list. Pairs (field, value or score, member) stay
-- together: chunks are of an even length.
local function callChunked(command, key, list, first, last)
  for from = first, last, 1000 do
    redis.call(command, key, unpack(list, from, math.min(from + 999, last)))
  end
end
