--[[
  Fires a batch of due schedules: for each one, checks that the caller's view is still
  current, then enqueues its jobs as RQ does, records every occurrence in the run
  history, updates the schedule's last-run state and stores the next fire time the
  caller computed. One item is all-or-nothing; items are independent of each other.

  KEYS[1]  next ZSET        (id -> next fire ms)
  KEYS[2]  rq:queues SET    (queue keys that workers discover)
  then per item, in order:
    schedule HASH, runs LIST,
    the previous job's HASH (rq:job:<lastJobId>)   only when overlap = forbid (the
                                                   schedule HASH again when there is
                                                   no previous job)
    per enqueue op: the job HASH (rq:job:<jobId>), the queue LIST (rq:queue:<name>)

  ARGV[1]  history length (LTRIM)
  ARGV[2]  number of items
  ARGV[3]  at: the enqueue time, epoch ms (run records; lateness = at - occurrence);
           '' = Redis's clock (TIME), the daemon's case: the one clock every daemon shares
  ARGV[4]  at as RQ writes times (created_at, enqueued_at); '' with ARGV[3] = ''
  ARGV[5]  trigger: 'schedule' | 'manual' (run records)
  then per item:
    id
    expected   next fire time the caller saw (ms); '' = manual run: no compare-and-set
    hash       spec hash the jobs were encoded from
    next       '' keep | '-' ZREM (ended) | 'done' ZREM and mark done | ms: ZADD
    forbid     '1' = overlap forbid | '0'
    prevJobId  lastJobId the caller saw ('' none; compared only when forbid = '1')
    nOps
    the job fields shared by the item's jobs ('' = leave the field out):
      origin, data, description, timeout, result_ttl, failure_ttl, ttl,
      failure_callback_name
    then per op (oldest occurrence first), 5 values each:
      kind         'E' enqueue | 'S' skipped
      occurrence   ms
      until        'S' of an aggregate of missed occurrences: up to this time (ms,
                   exclusive); '' otherwise
                   'E': this job's own data (a job whose arguments hold its id);
                   '' = the shared data
      'E': jobId, meta      'S': outcome ('skipped:missed' | 'skipped:deadline'),
                                 count (how many the aggregate stands for; '' unknown)

  An enqueue op becomes:
    'skipped:overlap'   overlap = forbid and the previous job is queued or started
    'skipped:duplicate' the job key already exists (this occurrence was enqueued before)
    'enqueued'          HSET job (status queued), EXPIRE ttl, SADD rq:queues, RPUSH queue
  The job hash is the layout of jobHashFields() in src/rq/job-encoding.ts.
  Every op is recorded in the runs LIST as a JSON object (cjson): occurrence, at,
  latenessMs, trigger, outcome, and jobId | previousJobId | until, count as they apply
  (the shape src/dispatch/run-record.ts reads back).

  KEYS[#KEYS - 1] is the paused HASH (src/registry/pauses.ts).
  Fencing (src/redis/commands/fence.ts): KEYS[#KEYS] is the leader lease key and
  ARGV[#ARGV] the writer's lease token ('' = unfenced: tick, trigger). With a token that
  the lease key does not hold, the reply is the error 'PYRQ_FENCED ...' and nothing is
  written.

  Returns one code per item (named in fire-batch.ts, the only caller):
    n >= 0  applied; n jobs were enqueued
    -1      not due: the stored next fire time is not `expected` (fired by another
            dispatcher, or rescheduled by apply); nothing written
    -2      stale: the stored spec hash differs (the spec changed); nothing written
    -3      stale: overlap state changed (lastJobId is not `prevJobId`); nothing written
    -4      paused: a scheduled item with enqueues for a schedule paused since it was
            built (KEYS[#KEYS - 1], the paused HASH); nothing written
    -5      early: an occurrence of the item is still ahead of `at` (Redis's clock when
            ARGV[3] = ''; a daemon whose clock runs fast); nothing written
  and one more value after the items: `at` (epoch ms), so the caller knows when to come back.
]]
local fenceToken = ARGV[#ARGV]
if fenceToken ~= '' and redis.call('GET', KEYS[#KEYS]) ~= fenceToken then
  return redis.error_reply('PYRQ_FENCED the lease is not held by ' .. fenceToken)
end
local nextKey, queuesKey = KEYS[1], KEYS[2]
local histLen = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local at, rqAt, trigger = ARGV[3], ARGV[4], ARGV[5]
if at == '' then
  -- Redis's clock is the one clock: no daemon fires early or stamps a job by its own.
  local t = redis.call('TIME')
  local sec, ms = tonumber(t[1]), math.floor(tonumber(t[2]) / 1000)
  at = tostring(sec * 1000 + ms)
  -- As RQ writes times (utcformat, microseconds), from the civil date of `sec`.
  local days = math.floor(sec / 86400)
  local rem = sec - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local mon = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (mon <= 2 and 1 or 0)
  rqAt = string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03d000Z', year, mon, doy - math.floor((153 * mp + 2) / 5) + 1,
    math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms)
end
local atNum = tonumber(at)
local queued = {}
local k, a = 3, 6
local out = {}
for i = 1, n do
  local skey, rkey = KEYS[k], KEYS[k + 1]
  k = k + 2
  local id, expected, hash, nextAt, forbid, prevId = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local nOps = tonumber(ARGV[a + 6])
  local jf = a + 7 -- origin, data, description, timeout, result_ttl, failure_ttl, ttl, failure_callback_name
  local first = a + 15 -- the first op; every op is 5 ARGV, an enqueue op also 2 KEYS
  a = first + 5 * nOps
  local pkey = nil
  if forbid == '1' then
    pkey = KEYS[k]
    k = k + 1
  end
  local kOps = k
  for j = 0, nOps - 1 do
    if ARGV[first + 5 * j] == 'E' then k = k + 2 end
  end

  local code
  if expected ~= '' and tonumber(redis.call('ZSCORE', nextKey, id)) ~= tonumber(expected) then
    code = -1
  elseif nOps > 0 and tonumber(ARGV[first + 5 * (nOps - 1) + 1]) > atNum then
    code = -5
  elseif redis.call('HGET', skey, 'hash') ~= hash then
    code = -2
  elseif forbid == '1' and (redis.call('HGET', skey, 'lastJobId') or '') ~= prevId then
    code = -3
  elseif trigger == 'schedule' and k > kOps and redis.call('HEXISTS', KEYS[#KEYS - 1], id) == 1 then
    code = -4
  else
    local job = nil
    local ttl = ARGV[jf + 6]
    local enqueued = 0
    local prevJob, prevKey = prevId, pkey
    local lastJob = nil
    local lastOcc, lastOutcome, lastLate = nil, nil, nil
    local ko = kOps
    for j = 0, nOps - 1 do
      local o = first + 5 * j
      local occ = ARGV[o + 1]
      local occNum = tonumber(occ)
      -- Every field the record can have is named here, so the table is allocated at its
      -- full size once (fields left nil are simply absent from the JSON).
      local record = { occurrence = occNum, at = atNum, latenessMs = atNum - occNum, trigger = trigger, outcome = false, jobId = nil, previousJobId = nil }
      local outcome = ARGV[o + 3]
      if ARGV[o] == 'E' then
        local jobId, jkey, qkey = ARGV[o + 3], KEYS[ko], KEYS[ko + 1]
        ko = ko + 2
        local busy = false
        if forbid == '1' and prevJob ~= '' then
          local st = redis.call('HGET', prevKey, 'status')
          busy = (st == 'queued' or st == 'started')
        end
        if busy then
          outcome, record.previousJobId = 'skipped:overlap', prevJob
        elseif redis.call('EXISTS', jkey) == 1 then
          outcome, record.jobId = 'skipped:duplicate', jobId
        else
          if not job then
            job = { 'data', ARGV[jf + 1], 'status', 'queued', 'origin', ARGV[jf], 'description', ARGV[jf + 2], 'timeout', ARGV[jf + 3] }
            if ARGV[jf + 4] ~= '' then job[#job + 1] = 'result_ttl'; job[#job + 1] = ARGV[jf + 4] end
            if ARGV[jf + 5] ~= '' then job[#job + 1] = 'failure_ttl'; job[#job + 1] = ARGV[jf + 5] end
            if ttl ~= '' then job[#job + 1] = 'ttl'; job[#job + 1] = ttl end
            if ARGV[jf + 7] ~= '' then job[#job + 1] = 'failure_callback_name'; job[#job + 1] = ARGV[jf + 7] end
            job[#job + 1] = 'created_at'; job[#job + 1] = rqAt
            job[#job + 1] = 'enqueued_at'; job[#job + 1] = rqAt
            job[#job + 1] = 'meta'; job[#job + 1] = ''
          end
          job[#job] = ARGV[o + 4]
          if ARGV[o + 2] ~= '' then job[2] = ARGV[o + 2] else job[2] = ARGV[jf + 1] end
          redis.call('HSET', jkey, unpack(job))
          if ttl ~= '' then redis.call('EXPIRE', jkey, ttl) end
          if not queued[qkey] then
            redis.call('SADD', queuesKey, qkey)
            queued[qkey] = true
          end
          redis.call('RPUSH', qkey, jobId)
          outcome, record.jobId = 'enqueued', jobId
          enqueued = enqueued + 1
          prevJob, prevKey, lastJob = jobId, jkey, jobId
        end
      else
        -- `until` is a Lua keyword: the field is set by name.
        if ARGV[o + 2] ~= '' then record['until'] = tonumber(ARGV[o + 2]) end
        if ARGV[o + 4] ~= '' then record.count = tonumber(ARGV[o + 4]) end
      end
      record.outcome = outcome
      local len = redis.call('LPUSH', rkey, cjson.encode(record))
      if len > histLen then redis.call('LTRIM', rkey, 0, histLen - 1) end
      lastOcc, lastOutcome, lastLate = occ, outcome, record.latenessMs
    end
    -- One write of the last-run state (and the done mark of a finished one-shot).
    local state = nil
    if lastOcc then state = { 'lastRunAt', lastOcc, 'lastOutcome', lastOutcome, 'lastLatenessMs', tostring(lastLate) } end
    if lastJob then state[#state + 1] = 'lastJobId'; state[#state + 1] = lastJob end
    if nextAt == 'done' then
      state = state or {}
      state[#state + 1] = 'done'; state[#state + 1] = '1'
    end
    if state then redis.call('HSET', skey, unpack(state)) end
    if nextAt == '-' or nextAt == 'done' then
      redis.call('ZREM', nextKey, id)
    elseif nextAt ~= '' then
      redis.call('ZADD', nextKey, nextAt, id)
    end
    code = enqueued
  end
  out[i] = code
end
out[n + 1] = atNum
return out
