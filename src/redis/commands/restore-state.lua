--[[
  Restores a daemon's state file (pushed schedules and pauses) into a Redis that lost
  them, once per data set: only while the state marker is missing (Redis restarted empty
  or was flushed), and then sets the marker, so the first daemon to notice restores and
  every other one finds the marker and does nothing. A value already present (pushed or
  paused since the restart) is kept: HSETNX.

  KEYS[1]  state marker STRING (Keys.stateMarker)
  KEYS[2]  socket store HASH (id -> pushed schedule JSON)
  KEYS[3]  paused HASH (id -> pause JSON)

  ARGV[1]  the marker's value (JSON: who restored, when, from which save)
  ARGV[2]  n: how many pushed schedules follow, as id, value pairs (ARGV[3] .. ARGV[2+2n])
  then the pauses, as id, value pairs, to the end

  Returns {restored pushed schedules, restored pauses}, or {-1, -1} when the marker was
  present (nothing was lost, or another daemon restored first): nothing written.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1, -1} end
local n = tonumber(ARGV[2])
local pushed, paused = 0, 0
for i = 0, n - 1 do
  pushed = pushed + redis.call('HSETNX', KEYS[2], ARGV[3 + 2 * i], ARGV[4 + 2 * i])
end
for i = 3 + 2 * n, #ARGV - 1, 2 do
  paused = paused + redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('SET', KEYS[1], ARGV[1])
return {pushed, paused}
