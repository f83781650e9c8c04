--[[
  Records what the outcome reader learnt of a batch of pyrq's jobs (src/dispatch/
  outcome-reader.ts): a final outcome is applied once (the job leaves the pending ZSET
  here, and only the call that removed it writes), a job still queued or started is
  looked at again later.

  KEYS[1]  outcomes pending ZSET (job id -> when to look next, epoch ms)
  then per item: the schedule HASH (pyrq:schedule:<id>), its runs LIST (pyrq:runs:<id>)

  ARGV[1]  now, epoch ms (the outcome time of a job whose ended_at RQ did not record)
  ARGV[2]  number of items
  then per item, 7 values:
    jobId
    outcome    finished | failed | stopped | canceled | unknown; '' = not final yet
    runAt      the job's occurrence (or trigger time), ms: orders outcomes of a schedule
    next       not final: when to look again (ms); '' otherwise
    endedAt    ms, '' unknown
    durationMs '' unknown
    failure    the failure summary (failed, stopped); '' none

  Per schedule HASH (written only while it exists, i.e. has its `hash` field: a deleted
  schedule's late outcome is dropped, never resurrects the hash):
    firstRunAt            runAt of the first job seen (HSETNX): overdue counts from it
    jobOutcome, jobOutcomeRun, jobOutcomeAt, jobOutcomeJobId, jobDurationMs ('' unknown),
    failureSummary
                          of the newest job by runAt (an older job's outcome arriving late
                          does not replace a newer one)
    recentOutcomes        the last 20 final outcomes, one letter each, oldest first (the
                          status page's strip): s finished, f failed, x stopped,
                          c canceled, u unknown
    lastSuccessAt         the latest ended_at (or now) of a finished job
    consecutiveFailures   the failed jobs since the newest finished one, by runAt,
                          whatever order the outcomes are learnt in (the reader looks
                          at a job again after half its age, so an older job's outcome
                          often comes after a newer one's); stopped, canceled and
                          unknown leave it
    lastSuccessRun        runAt of the newest finished job: a failure of a run before
                          it is not part of the streak
    failureRuns           runAt of the newest failures counted in the streak (at most
                          20, comma-separated): a finished job learnt late takes those
                          before it out of the streak. A streak longer than 20 keeps its
                          older failures counted, so a finished job that ran before the
                          newest 20 failures and is learnt after them leaves the count
                          as it was (and the streak of a hash written before this field
                          existed keeps its count until a finished job with no newer
                          failure recorded here)
  Per run record: the run's JSON object in the runs LIST (searched among the newest 20)
  gains "result", "durationMs" and "error" (the shape src/dispatch/run-record.ts reads).

  Returns the number of final outcomes applied.
]]
local pendingKey = KEYS[1]
local now = ARGV[1]
local n = tonumber(ARGV[2])
local applied = 0
local SEARCH = 20
local RECENT = 20
local FAILURE_RUNS = 20
local LETTER = { finished = 's', failed = 'f', stopped = 'x', canceled = 'c', unknown = 'u' }
local a, k = 3, 2
for i = 1, n do
  local jobId, outcome, runAt, nextAt = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local endedAt, duration, failure = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  local skey, rkey = KEYS[k], KEYS[k + 1]
  a = a + 7
  k = k + 2
  if outcome == '' then
    redis.call('ZADD', pendingKey, 'XX', nextAt, jobId)
    if redis.call('HEXISTS', skey, 'hash') == 1 then redis.call('HSETNX', skey, 'firstRunAt', runAt) end
  elseif redis.call('ZREM', pendingKey, jobId) == 1 then
    applied = applied + 1
    -- One read and one write of the schedule HASH (HMGET: the hash exists when any
    -- field it always has, `hash`, is there).
    local cur = redis.call('HMGET', skey, 'hash', 'jobOutcomeRun', 'lastSuccessAt', 'recentOutcomes', 'firstRunAt',
      'consecutiveFailures', 'lastSuccessRun', 'failureRuns')
    if cur[1] then
      local at = endedAt ~= '' and endedAt or now
      local run = tonumber(runAt)
      local prev = tonumber(cur[2] or '')
      local w = { 'recentOutcomes', string.sub((cur[4] or '') .. (LETTER[outcome] or 'u'), -RECENT) }
      if not cur[5] then w[#w + 1] = 'firstRunAt'; w[#w + 1] = runAt end
      if outcome == 'finished' then
        local last = tonumber(cur[3] or '')
        if not last or tonumber(at) > last then w[#w + 1] = 'lastSuccessAt'; w[#w + 1] = at end
      end
      if not prev or run >= prev then
        w[#w + 1] = 'jobOutcome'; w[#w + 1] = outcome
        w[#w + 1] = 'jobOutcomeRun'; w[#w + 1] = runAt
        w[#w + 1] = 'jobOutcomeAt'; w[#w + 1] = at
        w[#w + 1] = 'jobOutcomeJobId'; w[#w + 1] = jobId
        w[#w + 1] = 'jobDurationMs'; w[#w + 1] = duration -- '' when unknown
        if failure ~= '' then w[#w + 1] = 'failureSummary'; w[#w + 1] = failure end
      end
      -- The streak, by runAt (see the header): failures after the newest success.
      local successRun = tonumber(cur[7] or '')
      if (outcome == 'failed' or outcome == 'finished') and (not successRun or run > successRun) then
        local count = tonumber(cur[6] or '') or 0
        local runs = {}
        -- Anything but a number (the hash edited outside pyrq) is left out, not compared:
        -- a comparison with nil would fail the whole batch, at every pass.
        for v in string.gmatch(cur[8] or '', '[^,]+') do
          if tonumber(v) then runs[#runs + 1] = v end
        end
        if outcome == 'failed' then
          local at = #runs + 1
          while at > 1 and tonumber(runs[at - 1]) > run do at = at - 1 end
          table.insert(runs, at, runAt)
          if #runs > FAILURE_RUNS then table.remove(runs, 1) end -- still counted
          count = count + 1
        else
          local after = {}
          for _, v in ipairs(runs) do
            if tonumber(v) > run then after[#after + 1] = v end
          end
          -- Every failure recorded here is after this run: the older ones counted but not
          -- recorded may be too; otherwise they are before it, like those taken out.
          if #runs == 0 or #after < #runs then count = #after end
          runs = after
          w[#w + 1] = 'lastSuccessRun'; w[#w + 1] = runAt
        end
        w[#w + 1] = 'consecutiveFailures'; w[#w + 1] = tostring(count)
        w[#w + 1] = 'failureRuns'; w[#w + 1] = table.concat(runs, ',')
      end
      redis.call('HSET', skey, unpack(w))
      -- The run record of this job: a JSON object that names it (built by fire-batch.lua).
      local needle = '"jobId":' .. cjson.encode(jobId)
      local recs = redis.call('LRANGE', rkey, 0, SEARCH - 1)
      for j = 1, #recs do
        local r = recs[j]
        if string.find(r, needle, 1, true) and not string.find(r, '"result":', 1, true) then
          local extra = ',"result":"' .. outcome .. '"'
          if duration ~= '' then extra = extra .. ',"durationMs":' .. duration end
          if failure ~= '' then extra = extra .. ',"error":' .. cjson.encode(failure) end
          redis.call('LSET', rkey, j - 1, string.sub(r, 1, -2) .. extra .. '}')
          break
        end
      end
    end
  end
end
return applied
