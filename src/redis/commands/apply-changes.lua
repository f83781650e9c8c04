--[[
  Applies a batch of planned changes to the registry, each one compare-and-set on the
  spec hash the plan observed, so a stale plan can never overwrite a newer change.

  KEYS[1]  index HASH   (id -> "hash\tsource\torigin": src/registry/index-value.ts)
  KEYS[2]  next ZSET    (id -> next fire ms)
  KEYS[3+2i], KEYS[4+2i]  schedule HASH and runs LIST of entry i (i from 0)

  ARGV[1]  now (epoch ms, recorded as createdAt/updatedAt)
  ARGV[2]  events channel ('' = do not publish)
  then 8 values per entry i, starting at ARGV[3+8i]:
    op        'put' | 'del' | 'fix' (fix = put, even when the index already holds this
              hash: repairs an entry whose hash or next time was altered outside pyrq)
    id
    expected  hash the plan saw: '' = the plan saw no entry
    hash      new spec hash (put only)
    source    owning source (put only)
    origin    file, table or client within the source (put only)
    spec      normalised schedule JSON (put only)
    next      '' keep the stored next fire time, '-' remove it, else the new time (ms)
  KEYS[#KEYS - 1]  paused HASH (id -> pause): a deleted entry's pause goes with it
  KEYS[#KEYS]  the leader lease key; ARGV[#ARGV] the writer's lease token ('' = unfenced)
               (fencing: src/redis/commands/fence.ts)

  Replies with the error 'PYRQ_FENCED ...' and writes nothing when a token is given and
  the lease key does not hold it (the writer lost its lease).

  Each id appears at most once in a batch (apply-changes.ts refuses a batch that repeats
  one): every index field is read up front with one HMGET, and the index, the next set,
  the deleted keys and the pauses are written after the loop with one variadic command
  each. Per entry only its own schedule hash is written in the loop. Per-entry HGET,
  HSET and ZADD calls cost Redis ~25 % more in a cold apply of 100,000 schedules (each
  redis.call converts its arguments and its reply) for the same writes.

  Returns one code per entry (named in apply-changes.ts, the only caller):
     1  applied
     0  nothing to do: already in the wanted state (applied twice, or deleted already)
    -1  conflict: the entry changed since the plan was made (stale plan); left alone
]]
local fenceToken = ARGV[#ARGV]
if fenceToken ~= '' and redis.call('GET', KEYS[#KEYS]) ~= fenceToken then
  return redis.error_reply('PYRQ_FENCED the lease is not held by ' .. fenceToken)
end
local now = ARGV[1]
local channel = ARGV[2]
local n = (#ARGV - 3) / 8

-- unpack() is bounded by Lua's C stack (8,000 values): variadic calls go in chunks of
-- 1,000 arguments (even, so field-value and score-member pairs stay whole).
local CHUNK = 1000
local function variadic(cmd, key, args)
  for i = 1, #args, CHUNK do
    local j = math.min(i + CHUNK - 1, #args)
    if key then redis.call(cmd, key, unpack(args, i, j)) else redis.call(cmd, unpack(args, i, j)) end
  end
end

local ids = {}
for i = 0, n - 1 do ids[i + 1] = ARGV[4 + 8 * i] end
local currents = {}
for i = 1, n, CHUNK do
  local got = redis.call('HMGET', KEYS[1], unpack(ids, i, math.min(i + CHUNK - 1, n)))
  for j = 1, #got do currents[i + j - 1] = got[j] end
end

local out = {}
local indexSet, indexDel, nextAdd, nextRem, keysDel, pausedDel = {}, {}, {}, {}, {}, {}
for i = 0, n - 1 do
  local a = 3 + 8 * i
  local op, id, expected, hash = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local source, origin, spec, nextAt = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local skey, rkey = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
  local current = currents[i + 1]
  local curHash = ''
  if current then curHash = string.match(current, '^([^\t]*)') end
  if op == 'del' then
    if not current then
      out[#out + 1] = 0
    elseif curHash ~= expected then
      out[#out + 1] = -1
    else
      indexDel[#indexDel + 1] = id
      nextRem[#nextRem + 1] = id
      keysDel[#keysDel + 1] = skey
      keysDel[#keysDel + 1] = rkey
      pausedDel[#pausedDel + 1] = id
      out[#out + 1] = 1
    end
  else
    local value = hash .. '\t' .. source .. '\t' .. origin
    if current == value and op ~= 'fix' then
      out[#out + 1] = 0
    elseif curHash ~= expected and curHash ~= hash then
      out[#out + 1] = -1
    else
      indexSet[#indexSet + 1] = id
      indexSet[#indexSet + 1] = value
      if current then
        redis.call('HSET', skey, 'spec', spec, 'hash', hash, 'source', source, 'origin', origin, 'updatedAt', now)
        redis.call('HSETNX', skey, 'createdAt', now)
      else
        -- a new entry (no index field): a new life, created now; one command, not the
        -- two above (a cold apply is all creates)
        redis.call('HSET', skey, 'spec', spec, 'hash', hash, 'source', source, 'origin', origin, 'updatedAt', now,
          'createdAt', now)
      end
      if nextAt == '-' then
        nextRem[#nextRem + 1] = id
      elseif nextAt ~= '' then
        nextAdd[#nextAdd + 1] = nextAt
        nextAdd[#nextAdd + 1] = id
        -- a new trigger starts a new life: a finished one-shot may fire again
        redis.call('HDEL', skey, 'done')
      end
      out[#out + 1] = 1
    end
  end
end
-- In this order, should a write fail midway: a schedule hash before the index field that
-- points to it, the index field before its next fire time, and an index field removed
-- before the keys it points to.
variadic('HSET', KEYS[1], indexSet)
variadic('ZADD', KEYS[2], nextAdd)
variadic('ZREM', KEYS[2], nextRem)
variadic('HDEL', KEYS[1], indexDel)
variadic('DEL', nil, keysDel)
variadic('HDEL', KEYS[#KEYS - 1], pausedDel)
if (#indexSet > 0 or #indexDel > 0) and channel ~= '' then redis.call('PUBLISH', channel, 'changed') end
return out
