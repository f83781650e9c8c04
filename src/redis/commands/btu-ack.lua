--[[
  The acknowledgement of one BTU RPC command, as BTU's own daemons write it
  (LPUSH response_key <ack>; EXPIRE response_key 60), in one step, and only onto a key
  that is BTU's reply list or nothing yet: a key of another type is left exactly as it
  was (no LPUSH, no EXPIRE). The caller has already checked that the key is under BTU's
  reply prefix (btu:scheduler:rpc:); this script is the second wall, not the first.

  KEYS[1]  the command's response key (LIST)
  ARGV[1]  the acknowledgement (JSON text)
  ARGV[2]  its time to live in seconds

  Returns (named in btu-ack.ts, the only caller):
     1  written (LPUSH and EXPIRE both done)
    -1  the key holds another type: nothing written
]]
local key, ack, ttl = KEYS[1], ARGV[1], ARGV[2]
local t = redis.call('TYPE', key)['ok']
if t ~= 'none' and t ~= 'list' then
  return -1
end
redis.call('LPUSH', key, ack)
redis.call('EXPIRE', key, ttl)
return 1
