--[[
  Fires a batch of due schedules: for each one, checks that the caller's view is still
  current, then enqueues its jobs as RQ does, records every occurrence in the run
  history, updates the schedule's last-run state and stores the next fire time the
  caller computed. One item is all-or-nothing; items are independent of each other.

  KEYS[1]  next ZSET        (id -> next fire ms)
  KEYS[2]  rq:queues SET    (queue keys that workers discover)
  KEYS[3]  outcomes pending ZSET (job id -> when the outcome reader looks first: `at`);
           every enqueued job is added, so pyrq learns its outcome
           (src/dispatch/outcome-reader.ts)
  then per item, in order:
    schedule HASH, runs LIST,
    the previous job's HASH (rq:job:<lastJobId>)   only when overlap is not allow (the
                                                   schedule HASH again when there is
                                                   no previous job)
    the held HASH (pyrq:held)                      only when overlap = buffer-one
    the previous job's queue's canceled ZSET       only when overlap = replace
      (rq:canceled:<queue>)
    per enqueue op: the job HASH (rq:job:<jobId>)
  then per job template (below): its queue LIST (rq:queue:<name>)

  ARGV[1]  history length: a runs LIST is trimmed back to it once it holds a fifth more
           (one LTRIM per ~histLen/5 pushes, not per push; readers read at most histLen)
  ARGV[2]  number of items
  ARGV[3]  at: the enqueue time, epoch ms (run records; lateness = at - occurrence);
           '' = Redis's clock (TIME), the daemon's case: the one clock every daemon shares
  ARGV[4]  at as RQ writes times (created_at, enqueued_at); '' with ARGV[3] = ''
  ARGV[5]  trigger: 'schedule' | 'manual' | 'backfill' (run records)
  ARGV[6]  number of job templates: the job fields most schedules share, sent once per
           call (after the items) instead of once per item
  ARGV[7]  '1': every job id of the call is plain text that JSON needs no escape for
           (the run records quote them as they are); '' = check each
  then per item:
    id
    expected   next fire time the caller saw (ms); '' = manual run: no compare-and-set
    hash       spec hash the jobs were encoded from
    next       '' keep | '-' ZREM (ended) | 'done' ZREM and mark done | ms: ZADD
    overlap    '0' allow | '1' forbid | 'b' buffer-one | 'r' replace
    prevJobId  lastJobId the caller saw ('' none; compared unless overlap = '0')
    nOps
    template   its job template (1-based)
    data, description   the job fields of the item's own
    then per op (oldest occurrence first), 5 values each:
      kind         'E' enqueue | 'S' skipped
      occurrence   ms
      until        'S' of an aggregate of missed occurrences: up to this time (ms,
                   exclusive); '' otherwise
                   'E': this job's own data (a job whose arguments hold its id);
                   '' = the shared data
      'E': jobId, meta      'S': outcome ('skipped:missed' | 'skipped:deadline'),
                                 count (how many the aggregate stands for; '' unknown)
  then per job template, 9 values ('' = leave the field out): origin, timeout,
    result_ttl, failure_ttl, ttl, failure_callback_name, retries_left, retry_intervals
    (RQ's retry fields, written into the job hash as they are), times (the schedule's
    limit of scheduled jobs: see below)

  An enqueue op becomes ("busy": the previous job is queued or started):
    'skipped:overlap'   forbid and busy; buffer-one and busy with an occurrence already
                        held (pyrq:held has the id)
    'buffered'          buffer-one and busy, nothing held: the job is written with status
                        'deferred' (not pushed: no worker sees it) and held in pyrq:held
                        (id -> "<jobId>\t<queue>\t<previous job id>\t<occurrence ms>");
                        release-held.lua pushes it once the previous job has ended
    'skipped:duplicate' the job key already exists (this occurrence was enqueued before)
    'skipped:limit'     the template has `times` and the schedule HASH's `fired` count
                        has reached it (trigger 'schedule' only: manual runs never count)
    'enqueued'          HSET job (status queued), EXPIRE ttl, SADD rq:queues, RPUSH queue;
                        with replace and busy, first the previous job is ended as RQ
                        does it: a started one is sent RQ's stop-job command (PUBLISH on
                        rq:pubsub:<its worker_name>: its worker kills the work horse and
                        sets it 'stopped'), a queued one is cancelled (LREM from the
                        schedule's queue, status 'canceled', ZADD to the canceled
                        registry: Job.cancel); the record has "replacedJobId"
  Bounded runs (`times`): each scheduled occurrence given a job (enqueued or buffered)
  adds one to `fired` in the schedule HASH, in the same call, so the count holds across
  daemons and restarts; once it reaches `times` the schedule is finished like a fired
  one-shot (ZREM, `done`).
  The job hash is the layout of jobHashFields() in src/rq/job-encoding.ts.
  Every op is recorded in the runs LIST as a JSON object (built as text; numbers as
  cjson writes them): trigger, at, occurrence, latenessMs, outcome, and jobId |
  previousJobId | until, count as they apply (the shape src/dispatch/run-record.ts reads
  back; readers parse JSON, so the order of the fields is no contract).

  Per call, not per item: one EXISTS of the paused HASH (HEXISTS per item only when it
  is not empty), one ZMSCORE for every compare-and-set (Redis < 6.2: ZSCORE per item),
  and the next fire times written with one ZADD and one ZREM at the end (an id that
  comes twice in one call flushes them before its own compare-and-set).

  The job hash, from the template and the item: data, status, origin, description,
  timeout, result_ttl, failure_ttl, ttl, failure_callback_name, retries_left,
  retry_intervals, created_at, enqueued_at, meta.

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
    -5      early: an occurrence of the item, or the item's `expected` time (with jitter:
            a fire time after its occurrence), is still ahead of `at` (Redis's clock
            when ARGV[3] = ''; a daemon whose clock runs fast); nothing written
  and one more value after the items: `at` (epoch ms), so the caller knows when to come back.
]]
local fenceToken = ARGV[#ARGV]
if fenceToken ~= '' and redis.call('GET', KEYS[#KEYS]) ~= fenceToken then
  return redis.error_reply('PYRQ_FENCED the lease is not held by ' .. fenceToken)
end
local nextKey, queuesKey, pendingKey = KEYS[1], KEYS[2], KEYS[3]
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
-- Counts and template numbers, each text converted once per call (tonumber is strtod).
local ints = {}
local function int(s)
  local v = ints[s]
  if v == nil then
    v = tonumber(s)
    ints[s] = v
  end
  return v
end
local nT = int(ARGV[6])
local TPL = 9 -- values per template
local tBase = #ARGV - TPL * nT -- template t: ARGV[tBase + TPL * (t - 1) .. + TPL - 1]
local tKey = #KEYS - 2 - nT  -- template t's queue: KEYS[tKey + t]
local pausedKey = KEYS[#KEYS - 1]
-- One look at the paused HASH per call: per item only when some schedule is paused.
local anyPaused = trigger == 'schedule' and redis.call('EXISTS', pausedKey) == 1
local CHUNK = 1000 -- values per unpack (Lua's stack), an even number (ZADD pairs)

-- The compare-and-set values of every item, read with one ZMSCORE (Redis >= 6.2; older:
-- one ZSCORE per item, below). An id applied earlier in this call is read again live.
local scores = nil
do
  local ids, a2 = {}, 8
  for i = 1, n do
    if ARGV[a2 + 1] ~= '' then ids[#ids + 1] = ARGV[a2] end
    a2 = a2 + 10 + 5 * int(ARGV[a2 + 6])
  end
  if #ids > 0 then
    scores = {}
    for c = 1, #ids, CHUNK do
      local r = redis.pcall('ZMSCORE', nextKey, unpack(ids, c, math.min(c + CHUNK - 1, #ids)))
      if type(r) ~= 'table' or r.err then
        scores = nil
        break
      end
      for j = 1, #r do scores[c + j - 1] = r[j] end
    end
  end
end
local casN = 0

-- Next fire times are written once per call (one ZADD, one ZREM); an id met twice in a
-- call flushes them before its compare-and-set.
local zadds, zrems, touched = {}, {}, {}
local function flushNext()
  if #zadds > 0 then
    for c = 1, #zadds, CHUNK do redis.call('ZADD', nextKey, unpack(zadds, c, math.min(c + CHUNK - 1, #zadds))) end
    zadds = {}
  end
  if #zrems > 0 then
    for c = 1, #zrems, CHUNK do redis.call('ZREM', nextKey, unpack(zrems, c, math.min(c + CHUNK - 1, #zrems))) end
    zrems = {}
  end
end

-- Run records are JSON objects built as text (the fields run-record.ts parses); a string
-- with a character JSON escapes goes through cjson. Number-to-text conversions (sprintf)
-- and text-to-number ones (strtod) were a fifth of the script's instructions: each value
-- is converted at most once, and numbers the caller sent go into the record as sent.
-- The check is a pattern match (~10,000 instructions, a twelfth of the script per job):
-- skipped when the caller vouched for the ids (ARGV[7]).
local plainIds = ARGV[7] == '1'
local function jstr(s)
  if not plainIds and string.find(s, '[%c"\\/\128-\255]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end
local recHead = '{"trigger":"' .. trigger .. '","at":' .. tostring(atNum) .. ',"occurrence":'
-- The runs LIST is trimmed back to histLen once it is `slack` longer (readers read at most histLen).
local trimAt = histLen + math.ceil(histLen / 5)

local queued = {}
local pending = {} -- score, job id pairs: one ZADD per call (below)
local k, a = 4, 8
local out = {}
for i = 1, n do
  local skey, rkey = KEYS[k], KEYS[k + 1]
  k = k + 2
  local id, expected, hash, nextAt, mode, prevId = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local nOps = int(ARGV[a + 6])
  local tmpl = int(ARGV[a + 7])
  -- origin, timeout, result_ttl, failure_ttl, ttl, failure_callback_name, retries_left, retry_intervals, times
  local tf = tBase + TPL * (tmpl - 1)
  local df = a + 8 -- data, description
  local first = a + 10 -- the first op; every op is 5 ARGV, an enqueue op also 1 KEY
  a = first + 5 * nOps
  local pkey, xkey = nil, nil -- the previous job's HASH; the held HASH (b) or canceled ZSET (r)
  if mode ~= '0' then
    pkey = KEYS[k]
    k = k + 1
    if mode == 'b' or mode == 'r' then
      xkey = KEYS[k]
      k = k + 1
    end
  end
  local kOps = k
  for j = 0, nOps - 1 do
    if ARGV[first + 5 * j] == 'E' then k = k + 1 end
  end

  local code = nil
  if expected ~= '' then
    casN = casN + 1
    local stored
    if touched[id] then flushNext() end
    if scores and not touched[id] then
      stored = scores[casN]
    else
      stored = redis.call('ZSCORE', nextKey, id)
    end
    -- Compared as text first (both are integers written the same way): a number parsed
    -- only when they differ.
    if stored ~= expected and tonumber(stored) ~= tonumber(expected) then code = -1 end
  end
  local lastOccNum = nil
  if not code and nOps > 0 then lastOccNum = tonumber(ARGV[first + 5 * (nOps - 1) + 1]) end
  if code then
    -- not due
  elseif lastOccNum and lastOccNum > atNum then
    code = -5
  elseif nOps > 0 and expected ~= '' and tonumber(expected) > atNum then
    code = -5 -- a jittered fire time
  elseif redis.call('HGET', skey, 'hash') ~= hash then
    code = -2
  elseif mode ~= '0' and (redis.call('HGET', skey, 'lastJobId') or '') ~= prevId then
    code = -3
  elseif anyPaused and k > kOps and redis.call('HEXISTS', pausedKey, id) == 1 then
    code = -4
  else
    local job = nil
    local ttl = ARGV[tf + 4]
    local qkey = KEYS[tKey + tmpl]
    local enqueued = 0
    local prevJob, prevKey = prevId, pkey
    local lastJob = nil
    local lastOcc, lastOutcome, lastLate = nil, nil, nil
    local ko = kOps
    -- `times`: the count so far (scheduled fires only)
    local limit, fired = nil, nil
    if trigger == 'schedule' and ARGV[tf + 8] ~= '' then
      limit = tonumber(ARGV[tf + 8])
      fired = tonumber(redis.call('HGET', skey, 'fired') or '0') or 0
    end
    for j = 0, nOps - 1 do
      local o = first + 5 * j
      local occ = ARGV[o + 1]
      local occNum = (j == nOps - 1) and lastOccNum or tonumber(occ)
      local late = atNum - occNum
      -- Integer ms as %d (cheap); anything else as cjson writes numbers (%.14g).
      local lateText = (late == math.floor(late) and late < 1e14 and late > -1e14) and string.format('%d', late) or tostring(late)
      local outcome = ARGV[o + 3]
      local extra = ''
      if ARGV[o] == 'E' then
        local jobId, jkey = ARGV[o + 3], KEYS[ko]
        ko = ko + 1
        local busy, st = false, nil
        if mode ~= '0' and prevJob ~= '' then
          st = redis.call('HGET', prevKey, 'status')
          busy = (st == 'queued' or st == 'started')
        end
        -- buffer-one: an occurrence already held waits for its release; every later one is skipped.
        local held = mode == 'b' and redis.call('HEXISTS', xkey, id) == 1
        if limit and fired >= limit then
          outcome = 'skipped:limit'
        elseif (busy and mode == '1') or held then
          outcome, extra = 'skipped:overlap', ',"previousJobId":' .. jstr(prevJob)
        elseif redis.call('EXISTS', jkey) == 1 then
          outcome, extra = 'skipped:duplicate', ',"jobId":' .. jstr(jobId)
        else
          local hold = busy and mode == 'b'
          if busy and mode == 'r' then
            if st == 'started' then
              -- RQ's send_stop_job_command (rq/command.py): a channel, not a key.
              local worker = redis.call('HGET', prevKey, 'worker_name')
              if worker and worker ~= '' then
                redis.call('PUBLISH', 'rq:pubsub:' .. worker, '{"command":"stop-job","job_id":' .. jstr(prevJob) .. '}')
              end
            else
              -- RQ's Job.cancel: off the queue, status canceled, into the canceled registry.
              redis.call('LREM', qkey, 1, prevJob)
              redis.call('HSET', prevKey, 'status', 'canceled')
              redis.call('ZADD', xkey, math.floor(atNum / 1000), prevJob)
            end
          end
          if not job then
            job = { 'data', ARGV[df], 'status', 'queued', 'origin', ARGV[tf], 'description', ARGV[df + 1], 'timeout', ARGV[tf + 1] }
            if ARGV[tf + 2] ~= '' then job[#job + 1] = 'result_ttl'; job[#job + 1] = ARGV[tf + 2] end
            if ARGV[tf + 3] ~= '' then job[#job + 1] = 'failure_ttl'; job[#job + 1] = ARGV[tf + 3] end
            if ttl ~= '' then job[#job + 1] = 'ttl'; job[#job + 1] = ttl end
            if ARGV[tf + 5] ~= '' then job[#job + 1] = 'failure_callback_name'; job[#job + 1] = ARGV[tf + 5] end
            if ARGV[tf + 6] ~= '' then job[#job + 1] = 'retries_left'; job[#job + 1] = ARGV[tf + 6] end
            if ARGV[tf + 7] ~= '' then job[#job + 1] = 'retry_intervals'; job[#job + 1] = ARGV[tf + 7] end
            job[#job + 1] = 'created_at'; job[#job + 1] = rqAt
            job[#job + 1] = 'enqueued_at'; job[#job + 1] = rqAt
            job[#job + 1] = 'meta'; job[#job + 1] = ''
          end
          job[#job] = ARGV[o + 4]
          if ARGV[o + 2] ~= '' then job[2] = ARGV[o + 2] else job[2] = ARGV[df] end
          if hold then job[4] = 'deferred' end
          redis.call('HSET', jkey, unpack(job))
          if hold then job[4] = 'queued' end
          if ttl ~= '' then redis.call('EXPIRE', jkey, ttl) end
          if hold then
            redis.call('HSET', xkey, id, jobId .. '\t' .. ARGV[tf] .. '\t' .. prevJob .. '\t' .. occ)
            -- Its outcome is looked for from now on: the reader keeps a job still deferred
            -- or queued pending, and learns the end once release-held.lua has pushed it.
            pending[#pending + 1] = at
            pending[#pending + 1] = jobId
            outcome, extra = 'buffered', ',"jobId":' .. jstr(jobId) .. ',"previousJobId":' .. jstr(prevJob)
          else
            if not queued[qkey] then
              redis.call('SADD', queuesKey, qkey)
              queued[qkey] = true
            end
            redis.call('RPUSH', qkey, jobId)
            pending[#pending + 1] = at
            pending[#pending + 1] = jobId
            outcome, extra = 'enqueued', ',"jobId":' .. jstr(jobId)
            if busy and mode == 'r' then extra = extra .. ',"replacedJobId":' .. jstr(prevJob) end
            enqueued = enqueued + 1
            prevJob, prevKey, lastJob = jobId, jkey, jobId
          end
          -- `times` counts every scheduled occurrence given a job, held (buffer-one) or pushed.
          if limit then fired = fired + 1 end
        end
      else
        -- Numbers as the caller wrote them (JavaScript's String(number): valid JSON).
        if ARGV[o + 2] ~= '' then extra = ',"until":' .. ARGV[o + 2] end
        if ARGV[o + 4] ~= '' then extra = extra .. ',"count":' .. ARGV[o + 4] end
      end
      local len = redis.call('LPUSH', rkey, recHead .. occ .. ',"latenessMs":' .. lateText .. ',"outcome":"' .. outcome .. '"' .. extra .. '}')
      if len > trimAt then redis.call('LTRIM', rkey, 0, histLen - 1) end
      lastOcc, lastOutcome, lastLate = occ, outcome, lateText
    end
    -- One write of the last-run state (and the done mark of a finished one-shot).
    local state = nil
    if lastOcc then state = { 'lastRunAt', lastOcc, 'lastOutcome', lastOutcome, 'lastLatenessMs', lastLate } end
    if lastJob then state[#state + 1] = 'lastJobId'; state[#state + 1] = lastJob end
    if limit then
      if state then state[#state + 1] = 'fired'; state[#state + 1] = tostring(fired) end
      if fired >= limit then nextAt = 'done' end -- finished: out of the fire set, marked done
    end
    if nextAt == 'done' then
      state = state or {}
      state[#state + 1] = 'done'; state[#state + 1] = '1'
    end
    if state then redis.call('HSET', skey, unpack(state)) end
    if nextAt == '-' or nextAt == 'done' then
      zrems[#zrems + 1] = id
    elseif nextAt ~= '' then
      zadds[#zadds + 1] = nextAt
      zadds[#zadds + 1] = id
    end
    touched[id] = true
    code = enqueued
  end
  out[i] = code
end
flushNext()
for c = 1, #pending, CHUNK do redis.call('ZADD', pendingKey, unpack(pending, c, math.min(c + CHUNK - 1, #pending))) end
out[n + 1] = atNum
return out
