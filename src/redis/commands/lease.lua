--[[
  The leader lease: one key holding the current leader's id, with a TTL. Only the
  holder can renew or release it, so a paused leader that wakes after its lease
  expired cannot extend or delete a new leader's lease.

  KEYS[1]  lease key (STRING)
  ARGV[1]  op: 'acquire' | 'renew' | 'release'
  ARGV[2]  holder id (host:pid:random)
  ARGV[3]  ttl in ms (acquire, renew)
  ARGV[4]  release: the channel to PUBLISH the release on (optional), so standbys take
           the free lease at once instead of at their next poll

  Returns { code, holder, pttl } (named in lease.ts, the only caller):
     1  this holder has the lease (acquired, renewed) or released it
     0  someone else holds it (holder and pttl say who and for how long)
]]
local key, op, me, ttl = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local cur = redis.call('GET', key)
if op == 'acquire' then
  if not cur then
    redis.call('SET', key, me, 'PX', ttl)
    return { 1, me, tonumber(ttl) }
  end
  if cur == me then
    redis.call('PEXPIRE', key, ttl)
    return { 1, me, tonumber(ttl) }
  end
  return { 0, cur, redis.call('PTTL', key) }
elseif op == 'renew' then
  if cur == me then
    redis.call('PEXPIRE', key, ttl)
    return { 1, me, tonumber(ttl) }
  end
  return { 0, cur or '', cur and redis.call('PTTL', key) or -2 }
elseif op == 'release' then
  if cur == me then
    redis.call('DEL', key)
    if ARGV[4] and ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], me) end
    return { 1, me, 0 }
  end
  return { 0, cur or '', cur and redis.call('PTTL', key) or -2 }
end
return redis.error_reply('lease: unknown op ' .. tostring(op))
