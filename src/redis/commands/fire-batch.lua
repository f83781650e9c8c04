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
    the previous job's HASH (rq:job:<lastJobId>)   only when overlap = forbid (the
                                                   schedule HASH again when there is
                                                   no previous job)
    per enqueue op: the job HASH (rq:job:<jobId>)
  then per job template (below): its queue LIST (rq:queue:<name>)

  ARGV[1]  history length: a runs LIST is trimmed back to it once it holds a fifth more
           (one LTRIM per ~histLen/5 pushes, not per push; readers read at most histLen)
  ARGV[2]  number of items
  ARGV[3]  at: the enqueue time, epoch ms (run records; lateness = at - occurrence);
           '' = Redis's clock (TIME), the daemon's case: the one clock every daemon shares
  ARGV[4]  at as RQ writes times (created_at, enqueued_at); '' with ARGV[3] = ''
  ARGV[5]  trigger: 'schedule' | 'manual' (run records)
  ARGV[6]  number of job templates: the job fields most schedules share, sent once per
           call (after the items) instead of once per item
  ARGV[7]  '1': every job id of the call is plain text that JSON needs no escape for
           (the run records quote them as they are); '' = check each
  then per item:
    id
    expected   next fire time the caller saw (ms); '' = manual run: no compare-and-set
    hash       spec hash the jobs were encoded from
    next       '' keep | '-' ZREM (ended) | 'done' ZREM and mark done | ms: ZADD
    forbid     '1' = overlap forbid | '0'
    prevJobId  lastJobId the caller saw ('' none; compared only when forbid = '1')
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
  then per job template, 6 values ('' = leave the field out): origin, timeout,
    result_ttl, failure_ttl, ttl, failure_callback_name

  An enqueue op becomes:
    'skipped:overlap'   overlap = forbid and the previous job is queued or started
    'skipped:duplicate' the job key already exists (this occurrence was enqueued before)
    'enqueued'          HSET job (status queued), EXPIRE ttl, SADD rq:queues, RPUSH queue
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
  timeout, result_ttl, failure_ttl, ttl, failure_callback_name, created_at, enqueued_at, meta.

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
local tBase = #ARGV - 6 * nT -- template t: ARGV[tBase + 6 * (t - 1) .. + 5]
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
  local id, expected, hash, nextAt, forbid, prevId = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local nOps = int(ARGV[a + 6])
  local tmpl = int(ARGV[a + 7])
  local tf = tBase + 6 * (tmpl - 1) -- origin, timeout, result_ttl, failure_ttl, ttl, failure_callback_name
  local df = a + 8 -- data, description
  local first = a + 10 -- the first op; every op is 5 ARGV, an enqueue op also 1 KEY
  a = first + 5 * nOps
  local pkey = nil
  if forbid == '1' then
    pkey = KEYS[k]
    k = k + 1
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
  elseif redis.call('HGET', skey, 'hash') ~= hash then
    code = -2
  elseif forbid == '1' and (redis.call('HGET', skey, 'lastJobId') or '') ~= prevId then
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
        local busy = false
        if forbid == '1' and prevJob ~= '' then
          local st = redis.call('HGET', prevKey, 'status')
          busy = (st == 'queued' or st == 'started')
        end
        if busy then
          outcome, extra = 'skipped:overlap', ',"previousJobId":' .. jstr(prevJob)
        elseif redis.call('EXISTS', jkey) == 1 then
          outcome, extra = 'skipped:duplicate', ',"jobId":' .. jstr(jobId)
        else
          if not job then
            job = { 'data', ARGV[df], 'status', 'queued', 'origin', ARGV[tf], 'description', ARGV[df + 1], 'timeout', ARGV[tf + 1] }
            if ARGV[tf + 2] ~= '' then job[#job + 1] = 'result_ttl'; job[#job + 1] = ARGV[tf + 2] end
            if ARGV[tf + 3] ~= '' then job[#job + 1] = 'failure_ttl'; job[#job + 1] = ARGV[tf + 3] end
            if ttl ~= '' then job[#job + 1] = 'ttl'; job[#job + 1] = ttl end
            if ARGV[tf + 5] ~= '' then job[#job + 1] = 'failure_callback_name'; job[#job + 1] = ARGV[tf + 5] end
            job[#job + 1] = 'created_at'; job[#job + 1] = rqAt
            job[#job + 1] = 'enqueued_at'; job[#job + 1] = rqAt
            job[#job + 1] = 'meta'; job[#job + 1] = ''
          end
          job[#job] = ARGV[o + 4]
          if ARGV[o + 2] ~= '' then job[2] = ARGV[o + 2] else job[2] = ARGV[df] end
          redis.call('HSET', jkey, unpack(job))
          if ttl ~= '' then redis.call('EXPIRE', jkey, ttl) end
          if not queued[qkey] then
            redis.call('SADD', queuesKey, qkey)
            queued[qkey] = true
          end
          redis.call('RPUSH', qkey, jobId)
          pending[#pending + 1] = at
          pending[#pending + 1] = jobId
          outcome, extra = 'enqueued', ',"jobId":' .. jstr(jobId)
          enqueued = enqueued + 1
          prevJob, prevKey, lastJob = jobId, jkey, jobId
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
