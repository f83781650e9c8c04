--[[
  Reads what a deep re-sync checks of a slice of registry entries, in one call instead
  of two commands per entry (a deep read of 100,000 entries spent most of its time in
  the client's per-command work and its garbage).

  KEYS[1]     next ZSET (id -> next fire ms)
  KEYS[1+i]   schedule HASH of entry i (i from 1)
  ARGV[i]     id of entry i

  Returns 6 values per entry, in order: the schedule HASH's spec, hash, source, origin
  and done fields, and the entry's score in the next ZSET; nil where absent. Reads only.
]]
local out = {}
local n = 0
for i = 1, #ARGV do
  local f = redis.call('HMGET', KEYS[1 + i], 'spec', 'hash', 'source', 'origin', 'done')
  out[n + 1] = f[1]
  out[n + 2] = f[2]
  out[n + 3] = f[3]
  out[n + 4] = f[4]
  out[n + 5] = f[5]
  out[n + 6] = redis.call('ZSCORE', KEYS[1], ARGV[i])
  n = n + 6
end
return out
