--[[
  Releases the occurrences overlap buffer-one schedules hold (fire-batch.lua wrote each
  held job with status 'deferred' and an entry in the held HASH) whose previous job has
  ended: the job becomes 'queued' and is pushed onto its queue, exactly as the fire
  script enqueues, and becomes the schedule's last job. The dispatcher calls this after
  every tick and, while anything is held, once a second (docs/firing.md).

  KEYS[1]  held HASH      (id -> "<jobId>\t<queue>\t<previous job id>\t<occurrence ms>")
  KEYS[2]  rq:queues SET
  KEYS[3]  paused HASH    (a paused schedule keeps holding)
  then per item, 5 each: schedule HASH, runs LIST, the previous job's HASH, the held
    job's HASH, the held job's queue LIST
  KEYS[#KEYS] the leader lease key (fencing, src/redis/commands/fence.ts)

  ARGV[1]  history length (the runs LIST is trimmed as fire-batch.lua trims it)
  ARGV[2]  number of items
  ARGV[3]  at: epoch ms (run record)
  ARGV[4]  at as RQ writes times (enqueued_at)
  then per item, 3 each: id, the held value the caller read (compare-and-set), the
    occurrence (ms, as in the value)
  ARGV[#ARGV] the writer's lease token ('' = unfenced)

  Returns one code per item:
    1   released: enqueued, recorded ('enqueued' with its jobId) and removed from the held HASH
    0   still held: the previous job is queued or started, or the schedule is paused
    -1  the held value is not the one the caller read (released or replaced meanwhile)
    2   dropped: the schedule or the held job is gone (deleted schedule, expired job);
        the entry (and a job left behind) is removed
]]
local fenceToken = ARGV[#ARGV]
if fenceToken ~= '' and redis.call('GET', KEYS[#KEYS]) ~= fenceToken then
  return redis.error_reply('PYRQ_FENCED the lease is not held by ' .. fenceToken)
end
local heldKey, queuesKey, pausedKey = KEYS[1], KEYS[2], KEYS[3]
local histLen = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local at, rqAt = ARGV[3], ARGV[4]
local trimAt = histLen + math.ceil(histLen / 5)
local out = {}
for i = 1, n do
  local k = 4 + 5 * (i - 1)
  local skey, rkey, pkey, jkey, qkey = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local a = 5 + 3 * (i - 1)
  local id, value, occ = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local jobId = string.match(value, '^([^\t]*)')
  if redis.call('HGET', heldKey, id) ~= value then
    out[i] = -1
  elseif redis.call('EXISTS', skey) == 0 or redis.call('HGET', jkey, 'status') ~= 'deferred' then
    redis.call('HDEL', heldKey, id)
    if redis.call('HGET', jkey, 'status') == 'deferred' then redis.call('DEL', jkey) end
    out[i] = 2
  else
    local st = redis.call('HGET', pkey, 'status')
    if st == 'queued' or st == 'started' or redis.call('HEXISTS', pausedKey, id) == 1 then
      out[i] = 0
    else
      redis.call('HSET', jkey, 'status', 'queued', 'enqueued_at', rqAt)
      redis.call('SADD', queuesKey, qkey)
      redis.call('RPUSH', qkey, jobId)
      redis.call('HDEL', heldKey, id)
      local late = tonumber(at) - tonumber(occ)
      local rec = cjson.encode({ trigger = 'schedule', at = tonumber(at), occurrence = tonumber(occ),
        latenessMs = late, outcome = 'enqueued', jobId = jobId })
      if redis.call('LPUSH', rkey, rec) > trimAt then redis.call('LTRIM', rkey, 0, histLen - 1) end
      -- Only the last job: lastRunAt and lastOutcome stay those of the newest occurrence.
      redis.call('HSET', skey, 'lastJobId', jobId)
      out[i] = 1
    end
  end
end
return out
