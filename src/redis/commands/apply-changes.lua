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
local out = {}
local changed = false
for i = 0, n - 1 do
  local a = 3 + 8 * i
  local op, id, expected, hash = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local source, origin, spec, nextAt = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local skey, rkey = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
  local current = redis.call('HGET', KEYS[1], id)
  local curHash = ''
  if current then curHash = string.match(current, '^([^\t]*)') end
  if op == 'del' then
    if not current then
      out[#out + 1] = 0
    elseif curHash ~= expected then
      out[#out + 1] = -1
    else
      redis.call('HDEL', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('DEL', skey, rkey)
      redis.call('HDEL', KEYS[#KEYS - 1], id)
      out[#out + 1] = 1
      changed = true
    end
  else
    local value = hash .. '\t' .. source .. '\t' .. origin
    if current == value and op ~= 'fix' then
      out[#out + 1] = 0
    elseif curHash ~= expected and curHash ~= hash then
      out[#out + 1] = -1
    else
      redis.call('HSET', KEYS[1], id, value)
      if current then
        redis.call('HSET', skey, 'spec', spec, 'hash', hash, 'source', source, 'origin', origin, 'updatedAt', now)
        redis.call('HSETNX', skey, 'createdAt', now)
      else
        -- a new entry (no index field): a new life, created now; one command, not the
        -- two above (a cold apply is all creates: one command fewer of six per entry)
        redis.call('HSET', skey, 'spec', spec, 'hash', hash, 'source', source, 'origin', origin, 'updatedAt', now,
          'createdAt', now)
      end
      if nextAt == '-' then
        redis.call('ZREM', KEYS[2], id)
      elseif nextAt ~= '' then
        redis.call('ZADD', KEYS[2], nextAt, id)
        -- a new trigger starts a new life: a finished one-shot may fire again
        redis.call('HDEL', skey, 'done')
      end
      out[#out + 1] = 1
      changed = true
    end
  end
end
if changed and channel ~= '' then redis.call('PUBLISH', channel, 'changed') end
return out
