-- A job's queue: its hash's `queue` field when it has one; otherwise the queue is named after
-- its processor, the first element of the spec's header line (see encodeJobSpecHeader). Nil
-- when neither can be read.
local function jobQueue(queueField, spec)
  if queueField then
    return queueField
  end
  if not spec then
    return nil
  end
  local ok, header = pcall(cjson.decode, string.match(spec, '^[^\n]*'))
  if ok and type(header) == 'table' and type(header[1]) == 'string' and header[1] ~= '' then
    return header[1]
  end
  return nil
end
