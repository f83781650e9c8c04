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
  KEYS[4]  index HASH       (id -> "<spec hash>\t<source>\t<origin>", written by
           apply-changes.lua in the same call as the schedule HASH's `hash`): the
           spec-hash compare-and-set of every item, one HMGET per call
  KEYS[5 .. 4 + ARGV 8]  the job HASH (rq:job:<jobId>) of every enqueue op of the call,
           items and their ops in order (one block: one EXISTS per call)
  then per item, in order:
    schedule HASH, runs LIST,
    the previous job's HASH (rq:job:<lastJobId>)   only when overlap is not allow (the
                                                   schedule HASH again when there is
                                                   no previous job)
    the held HASH (pyrq:held)                      only when overlap = buffer-one
    the previous job's queue's canceled ZSET       only when overlap = replace
      (rq:canceled:<queue>)
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
  ARGV[7]  flags: 'p' every job id of the call is plain text that JSON needs no escape
           for (the run records quote them as they are; without it: check each); 'u'
           every item id and every job id occurs once in the call (without it: an id
           met twice flushes the next fire times first, and a job key written earlier
           in the call is a duplicate; with it, neither table is kept)
  ARGV[8]  number of enqueue ops in the call (job keys in KEYS[5 ..])
  ARGV[9 .. 8 + n]  the items' ids, in order (one block: one ZMSCORE, one HMGET per call)
  then per item:
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

  Per call, not per item (docs/performance.md, "The per-job calls batched"):
    - one EXISTS of the paused HASH (HEXISTS per item only when it is not empty);
    - one ZMSCORE for every next-fire-time compare-and-set (Redis < 6.2: ZSCORE per item);
    - one HMGET of the index HASH for every spec-hash compare-and-set;
    - one EXISTS of every job key of the call: when it counts none (the usual case),
      no job key existed and a duplicate can only be one written earlier in this call
      (a table of them); otherwise each job key is looked at with EXISTS, as before;
    - one RPUSH per queue with the call's job ids in order (flushed early before an LREM
      of replace, so the LREM sees every job pushed before it), one SADD per queue;
    - the outcome-pending ZADD and the next fire times (one ZADD and one ZREM) at the
      end (an id that comes twice in one call flushes them before its own compare-and-set).
  Per item: one LPUSH of all its run records (oldest first, so the LIST reads newest
  first, as one LPUSH per record did; the trim check after it); the schedule HASH is
  read only with overlap or `times` (one HMGET: lastJobId, fired) and written once (the
  last-run state). Per enqueued job: its HSET (and EXPIRE with a ttl).

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
-- Globals looked up once: each use of a global is a lookup by name, and the loop below
-- reads ARGV and calls Redis some thirty times per job.
local ARGV, KEYS, call, tonumber, tostring, unpack = ARGV, KEYS, redis.call, tonumber, tostring, unpack
local floor, sfind, sformat, sbyte = math.floor, string.find, string.format, string.byte
local fenceToken = ARGV[#ARGV]
if fenceToken ~= '' and call('GET', KEYS[#KEYS]) ~= fenceToken then
  return redis.error_reply('PYRQ_FENCED the lease is not held by ' .. fenceToken)
end
local nextKey, queuesKey, pendingKey, indexKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local histLen = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local at, rqAt, trigger = ARGV[3], ARGV[4], ARGV[5]
if at == '' then
  -- Redis's clock is the one clock: no daemon fires early or stamps a job by its own.
  local t = call('TIME')
  local sec, ms = tonumber(t[1]), floor(tonumber(t[2]) / 1000)
  at = tostring(sec * 1000 + ms)
  -- As RQ writes times (utcformat, microseconds), from the civil date of `sec`.
  local days = floor(sec / 86400)
  local rem = sec - days * 86400
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local mon = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (mon <= 2 and 1 or 0)
  rqAt = sformat('%04d-%02d-%02dT%02d:%02d:%02d.%03d000Z', year, mon, doy - floor((153 * mp + 2) / 5) + 1,
    floor(rem / 3600), floor(rem % 3600 / 60), rem % 60, ms)
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
local anyPaused = trigger == 'schedule' and call('EXISTS', pausedKey) == 1
local CHUNK = 1000 -- values per unpack (Lua's stack), an even number (ZADD pairs)

-- The compare-and-set values of every item, read with one ZMSCORE of the id block
-- (Redis >= 6.2; older: one ZSCORE per item, below); an id applied earlier in this call
-- is read again live. The spec hashes of every item, from the index: one HMGET. Every
-- job key of the call: one EXISTS (duplicates, below).
local nJobs = tonumber(ARGV[8])
local scores = nil
local specs = {}
local anyJobExists = false
do
  scores = {}
  -- (A call of at most CHUNK items, the usual one, keeps the replies as they are.)
  for c = 1, n, CHUNK do
    local r = redis.pcall('ZMSCORE', nextKey, unpack(ARGV, 8 + c, 8 + math.min(c + CHUNK - 1, n)))
    if type(r) ~= 'table' or r.err then
      scores = nil
      break
    end
    if n <= CHUNK then
      scores = r
    else
      for j = 1, #r do scores[c + j - 1] = r[j] end
    end
  end
  for c = 1, n, CHUNK do
    local r = call('HMGET', indexKey, unpack(ARGV, 8 + c, 8 + math.min(c + CHUNK - 1, n)))
    if n <= CHUNK then
      specs = r
    else
      for j = 1, #r do specs[c + j - 1] = r[j] end
    end
  end
  for c = 1, nJobs, CHUNK do
    if call('EXISTS', unpack(KEYS, 4 + c, 4 + math.min(c + CHUNK - 1, nJobs))) > 0 then
      anyJobExists = true
      break
    end
  end
end
-- The job keys this call wrote: with none existing before (anyJobExists false), the
-- only duplicates there can be (nothing here deletes a key, and no key expires inside
-- a script). Not kept when the caller vouched that every id occurs once (ARGV[7] 'u').
local distinct = sfind(ARGV[7], 'u', 1, true) ~= nil
local written = {}
-- Job ids to push, per queue, in order: one RPUSH per queue (flushPushes).
local pushes, pushOrder = {}, {}
local function flushPushes()
  for _, qk in ipairs(pushOrder) do
    local ids = pushes[qk]
    for c = 1, #ids, CHUNK do call('RPUSH', qk, unpack(ids, c, math.min(c + CHUNK - 1, #ids))) end
  end
  pushes, pushOrder = {}, {}
end

-- Next fire times are written once per call (one ZADD, one ZREM); an id met twice in a
-- call flushes them before its compare-and-set.
local zadds, zrems, touched = {}, {}, {}
local nz = 0 -- zadds' length
local function flushNext()
  if nz > 0 then
    for c = 1, nz, CHUNK do call('ZADD', nextKey, unpack(zadds, c, math.min(c + CHUNK - 1, nz))) end
    zadds, nz = {}, 0
  end
  if #zrems > 0 then
    for c = 1, #zrems, CHUNK do call('ZREM', nextKey, unpack(zrems, c, math.min(c + CHUNK - 1, #zrems))) end
    zrems = {}
  end
end

-- Run records are JSON objects built as text (the fields run-record.ts parses); a string
-- with a character JSON escapes goes through cjson. Number-to-text conversions (sprintf)
-- and text-to-number ones (strtod) were a fifth of the script's instructions: each value
-- is converted at most once, and numbers the caller sent go into the record as sent.
-- The check is a pattern match (~10,000 instructions, a twelfth of the script per job):
-- skipped when the caller vouched for the ids (ARGV[7]).
local plainIds = sfind(ARGV[7], 'p', 1, true) ~= nil
local function jstr(s)
  if not plainIds and sfind(s, '[%c"\\/\128-\255]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end
local recHead = '{"trigger":"' .. trigger .. '","at":' .. tostring(atNum) .. ',"occurrence":'
-- The runs LIST is trimmed back to histLen once it is `slack` longer (readers read at most histLen).
local trimAt = histLen + math.ceil(histLen / 5)

local queued = {}
local state = { 'lastRunAt', '', 'lastOutcome', '', 'lastLatenessMs', '' } -- the last-run state, below
local lateOf = {} -- occurrence text -> its lateness text (at - occurrence)
local jobOf = {} -- template -> its job HSET arguments (data, description and meta set per job)
local jobLen = {} -- template -> the length of jobOf's table (meta is last)
local pending, np = {}, 0 -- score, job id pairs: one ZADD per call (below); np: their count
local k, a, kj = 5 + nJobs, 9 + n, 5 -- item KEYS, item ARGV, the next job key
local out = {}
for i = 1, n do
  local skey, rkey = KEYS[k], KEYS[k + 1]
  k = k + 2
  local id = ARGV[8 + i]
  local expected, hash, nextAt, mode, prevId = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  -- (The cache read inline: a function call per number costs more than the lookup.)
  local nOps = ints[ARGV[a + 5]] or int(ARGV[a + 5])
  local tmpl = ints[ARGV[a + 6]] or int(ARGV[a + 6])
  -- origin, timeout, result_ttl, failure_ttl, ttl, failure_callback_name, retries_left, retry_intervals, times
  local tf = tBase + TPL * (tmpl - 1)
  local df = a + 7 -- data, description
  local first = a + 9 -- the first op; every op is 5 ARGV, an enqueue op also 1 job key (KEYS[kj ..])
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
  local kOps = kj
  for j = 0, nOps - 1 do
    if ARGV[first + 5 * j] == 'E' then kj = kj + 1 end
  end

  local code = nil
  if expected ~= '' then
    local stored
    if touched[id] then flushNext() end
    if scores and not touched[id] then
      stored = scores[i]
    else
      stored = call('ZSCORE', nextKey, id)
    end
    -- Compared as text first (both are integers written the same way): a number parsed
    -- only when they differ.
    if stored ~= expected and tonumber(stored) ~= tonumber(expected) then code = -1 end
  end
  local lastOccNum = nil
  if not code and nOps > 0 then
    local t = ARGV[first + 5 * (nOps - 1) + 1]
    lastOccNum = ints[t] or int(t)
  end
  if code then
    -- not due
  elseif lastOccNum and lastOccNum > atNum then
    code = -5
  elseif nOps > 0 and expected ~= '' and (ints[expected] or int(expected)) > atNum then
    code = -5 -- a jittered fire time
  else
    -- The index value is "<spec hash>\t<source>\t<origin>".
    local v = specs[i]
    if not v or sbyte(v, #hash + 1) ~= 9 or sfind(v, hash, 1, true) ~= 1 then code = -2 end
  end
  -- The schedule HASH is read only for overlap (lastJobId) and `times` (fired).
  local limit, fired = nil, nil
  local sread = nil
  if not code then
    if trigger == 'schedule' and ARGV[tf + 8] ~= '' then limit = tonumber(ARGV[tf + 8]) end
    if mode ~= '0' or limit then sread = call('HMGET', skey, 'lastJobId', 'fired') end
  end
  if code then
    -- refused above
  elseif mode ~= '0' and (sread[1] or '') ~= prevId then
    code = -3
  elseif anyPaused and kj > kOps and call('HEXISTS', pausedKey, id) == 1 then
    code = -4
  else
    local job = jobOf[tmpl] -- the template's job fields, built once per call
    local ttl = ARGV[tf + 4]
    local qkey = KEYS[tKey + tmpl]
    local enqueued = 0
    local prevJob, prevKey = prevId, pkey
    local lastJob = nil
    local lastOcc, lastOutcome, lastLate = nil, nil, nil
    local ko = kOps
    -- `times`: the count so far (scheduled fires only)
    if limit then fired = tonumber(sread[2] or '0') or 0 end
    local rec1, recs = nil, nil -- the item's run records: the first, then all in a table
    for j = 0, nOps - 1 do
      local o = first + 5 * j
      local occ = ARGV[o + 1]
      -- Items due together share their occurrence: its lateness text is made once.
      local lateText = lateOf[occ]
      if not lateText then
        local late = atNum - int(occ)
        -- Integer ms as %d (cheap); anything else as cjson writes numbers (%.14g).
        lateText = (late == floor(late) and late < 1e14 and late > -1e14) and sformat('%d', late) or tostring(late)
        lateOf[occ] = lateText
      end
      local outcome = ARGV[o + 3]
      local extra = ''
      -- The plain enqueued record's job id goes into the record's one concatenation.
      local idHead, idText, idTail = '', '', ''
      if ARGV[o] == 'E' then
        local jobId, jkey = ARGV[o + 3], KEYS[ko]
        ko = ko + 1
        local busy, st = false, nil
        if mode ~= '0' and prevJob ~= '' then
          st = call('HGET', prevKey, 'status')
          busy = (st == 'queued' or st == 'started')
        end
        -- buffer-one: an occurrence already held waits for its release; every later one is skipped.
        local held = mode == 'b' and call('HEXISTS', xkey, id) == 1
        if limit and fired >= limit then
          outcome = 'skipped:limit'
        elseif (busy and mode == '1') or held then
          outcome, extra = 'skipped:overlap', ',"previousJobId":' .. jstr(prevJob)
        elseif (not distinct and written[jkey]) or (anyJobExists and call('EXISTS', jkey) == 1) then
          outcome, extra = 'skipped:duplicate', ',"jobId":' .. jstr(jobId)
        else
          local hold = busy and mode == 'b'
          if busy and mode == 'r' then
            if st == 'started' then
              -- RQ's send_stop_job_command (rq/command.py): a channel, not a key.
              local worker = call('HGET', prevKey, 'worker_name')
              if worker and worker ~= '' then
                call('PUBLISH', 'rq:pubsub:' .. worker, '{"command":"stop-job","job_id":' .. jstr(prevJob) .. '}')
              end
            else
              -- RQ's Job.cancel: off the queue, status canceled, into the canceled registry.
              -- (The pushes of this call first: the previous job may be one of them.)
              flushPushes()
              call('LREM', qkey, 1, prevJob)
              call('HSET', prevKey, 'status', 'canceled')
              call('ZADD', xkey, floor(atNum / 1000), prevJob)
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
            jobOf[tmpl] = job
            jobLen[tmpl] = #job
          end
          job[8] = ARGV[df + 1] -- the item's description
          job[jobLen[tmpl]] = ARGV[o + 4]
          if ARGV[o + 2] ~= '' then job[2] = ARGV[o + 2] else job[2] = ARGV[df] end
          if hold then job[4] = 'deferred' end
          call('HSET', jkey, unpack(job))
          if not distinct then written[jkey] = true end
          if hold then job[4] = 'queued' end
          if ttl ~= '' then call('EXPIRE', jkey, ttl) end
          if hold then
            call('HSET', xkey, id, jobId .. '\t' .. ARGV[tf] .. '\t' .. prevJob .. '\t' .. occ)
            -- Its outcome is looked for from now on: the reader keeps a job still deferred
            -- or queued pending, and learns the end once release-held.lua has pushed it.
            np = np + 2
            pending[np - 1], pending[np] = at, jobId
            outcome, extra = 'buffered', ',"jobId":' .. jstr(jobId) .. ',"previousJobId":' .. jstr(prevJob)
          else
            if not queued[qkey] then
              call('SADD', queuesKey, qkey)
              queued[qkey] = true
            end
            local q = pushes[qkey]
            if not q then
              q = {}
              pushes[qkey] = q
              pushOrder[#pushOrder + 1] = qkey
            end
            q[#q + 1] = jobId
            np = np + 2
            pending[np - 1], pending[np] = at, jobId
            outcome = 'enqueued'
            if plainIds then
              idHead, idText, idTail = ',"jobId":"', jobId, '"'
            else
              extra = ',"jobId":' .. jstr(jobId)
            end
            if busy and mode == 'r' then idTail = idTail .. ',"replacedJobId":' .. jstr(prevJob) end
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
      local rec = recHead .. occ .. ',"latenessMs":' .. lateText .. ',"outcome":"' .. outcome .. '"' .. extra .. idHead
        .. idText .. idTail .. '}'
      if not rec1 then
        rec1 = rec
      elseif not recs then
        recs = { rec1, rec }
      else
        recs[#recs + 1] = rec
      end
      lastOcc, lastOutcome, lastLate = occ, outcome, lateText
    end
    -- One LPUSH of the item's records, oldest first (the LIST reads newest first).
    local len = 0
    if recs then
      for c = 1, #recs, CHUNK do len = call('LPUSH', rkey, unpack(recs, c, math.min(c + CHUNK - 1, #recs))) end
    elseif rec1 then
      len = call('LPUSH', rkey, rec1)
    end
    if len > trimAt then call('LTRIM', rkey, 0, histLen - 1) end
    -- One write of the last-run state (and the done mark of a finished one-shot).
    -- (One table for every item: fields 1..ns of it are this item's.)
    local ns = 0
    if lastOcc then
      state[2], state[4], state[6] = lastOcc, lastOutcome, lastLate
      ns = 6
      if lastJob then
        state[7], state[8] = 'lastJobId', lastJob
        ns = 8
      end
    end
    if limit then
      if ns > 0 then
        state[ns + 1], state[ns + 2] = 'fired', tostring(fired)
        ns = ns + 2
      end
      if fired >= limit then nextAt = 'done' end -- finished: out of the fire set, marked done
    end
    if nextAt == 'done' then
      if ns == 0 then
        call('HSET', skey, 'done', '1')
      else
        state[ns + 1], state[ns + 2] = 'done', '1'
        ns = ns + 2
      end
    end
    if ns > 0 then call('HSET', skey, unpack(state, 1, ns)) end
    if nextAt == '-' or nextAt == 'done' then
      zrems[#zrems + 1] = id
    elseif nextAt ~= '' then
      nz = nz + 2
      zadds[nz - 1], zadds[nz] = nextAt, id
    end
    if not distinct then touched[id] = true end
    code = enqueued
  end
  out[i] = code
end
flushNext()
flushPushes()
for c = 1, np, CHUNK do call('ZADD', pendingKey, unpack(pending, c, math.min(c + CHUNK - 1, np))) end
out[n + 1] = atNum
return out
