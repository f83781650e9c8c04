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

  Per schedule HASH (written only while it exists: a deleted schedule's late outcome is
  dropped, never resurrects the hash):
    firstRunAt            runAt of the first job seen (HSETNX): overdue counts from it
    jobOutcome, jobOutcomeRun, jobOutcomeAt, jobOutcomeJobId, jobDurationMs, failureSummary
                          of the newest job by runAt (an older job's outcome arriving late
                          does not replace a newer one)
    recentOutcomes        the last 20 final outcomes, one letter each, oldest first (the
                          status page's strip): s finished, f failed, x stopped,
                          c canceled, u unknown
    lastSuccessAt         the latest ended_at (or now) of a finished job
    consecutiveFailures   +1 per failed job, 0 on a finished one, in runAt order;
                          stopped, canceled and unknown leave it
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
    if redis.call('EXISTS', skey) == 1 then redis.call('HSETNX', skey, 'firstRunAt', runAt) end
  elseif redis.call('ZREM', pendingKey, jobId) == 1 then
    applied = applied + 1
    if redis.call('EXISTS', skey) == 1 then
      redis.call('HSETNX', skey, 'firstRunAt', runAt)
      local at = endedAt ~= '' and endedAt or now
      local recent = (redis.call('HGET', skey, 'recentOutcomes') or '') .. (LETTER[outcome] or 'u')
      redis.call('HSET', skey, 'recentOutcomes', string.sub(recent, -RECENT))
      local run = tonumber(runAt)
      local prev = tonumber(redis.call('HGET', skey, 'jobOutcomeRun') or '')
      if outcome == 'finished' then
        local last = tonumber(redis.call('HGET', skey, 'lastSuccessAt') or '')
        if not last or tonumber(at) > last then redis.call('HSET', skey, 'lastSuccessAt', at) end
      end
      if not prev or run >= prev then
        redis.call('HSET', skey, 'jobOutcome', outcome, 'jobOutcomeRun', runAt, 'jobOutcomeAt', at, 'jobOutcomeJobId', jobId)
        if duration ~= '' then redis.call('HSET', skey, 'jobDurationMs', duration) else redis.call('HDEL', skey, 'jobDurationMs') end
        if failure ~= '' then redis.call('HSET', skey, 'failureSummary', failure) end
        if outcome == 'finished' then
          redis.call('HSET', skey, 'consecutiveFailures', '0')
        elseif outcome == 'failed' then
          redis.call('HINCRBY', skey, 'consecutiveFailures', 1)
        end
      end
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
