/**
 * The honest floor of a fire: a bare Lua script that writes exactly what pyrq's fire
 * script writes for a burst of jobs (overlap `allow`, no `times`: the bench's schedules),
 * the same keys and the same bytes, read back from Redis after a pyrq round, with no
 * check at all (no compare-and-set, no duplicate EXISTS, no paused look, no fence):
 *
 *   per job   HSET of the RQ job hash (every field pyrq wrote, field names sent once per call),
 *             LPUSH of its run record (the record pyrq wrote, as text),
 *             HSET of the schedule's last-run state (lastRunAt, lastOutcome,
 *             lastLatenessMs, lastJobId: the values pyrq wrote)
 *   per call  SADD rq:queues + one RPUSH per queue (job ids in order), one ZADD of the
 *             next fire times, one ZADD of the outcome-pending set: as pyrq batches them
 *
 * Sent as pyrq sends its batches (250 jobs per call, pipelined). pyrq / this floor is
 * what pyrq's checks and its argument layout cost beyond the writes it cannot skip; the
 * older "bare Lua" floor (HSET + RPUSH per job) writes only the job and the push.
 */
import type { Redis } from 'ioredis';
import type { FireItem } from '../src/redis/commands/fire-batch.js';
import { type Keys, RqKeys } from '../src/redis/keys.js';

/**
 * KEYS: next ZSET, rq:queues SET, pending ZSET, then per job: job HASH, runs LIST,
 * schedule HASH, queue LIST.
 * ARGV: pending score (`at`), number of field-name lists, then each list (n, n names:
 * the job hash field names jobs of the call share, as pyrq's job templates), then per
 * job: schedule id, next fire time, job id, its list (1-based), its field values, run
 * record, lastRunAt, lastOutcome, lastLatenessMs.
 */
export const FULL_WRITES_LUA = `
local call, ARGV, KEYS, unpack, tonumber = redis.call, ARGV, KEYS, unpack, tonumber
local at, a = ARGV[1], 3
local jobs, nfs = {}, {}
for t = 1, tonumber(ARGV[2]) do
  local nf, job = tonumber(ARGV[a]), {}
  for f = 1, nf do job[2 * f - 1], job[2 * f] = ARGV[a + f], '' end
  jobs[t], nfs[t] = job, nf
  a = a + 1 + nf
end
local state = { 'lastRunAt', '', 'lastOutcome', '', 'lastLatenessMs', '', 'lastJobId', '' }
local pushes, order, nexts, pend = {}, {}, {}, {}
for k = 4, #KEYS, 4 do
  local t = tonumber(ARGV[a + 3])
  local id, nxt, jobId, job, nf = ARGV[a], ARGV[a + 1], ARGV[a + 2], jobs[t], nfs[t]
  a = a + 3
  for f = 1, nf do job[2 * f] = ARGV[a + f] end
  call('HSET', KEYS[k], unpack(job))
  a = a + nf + 1
  call('LPUSH', KEYS[k + 1], ARGV[a])
  state[2], state[4], state[6], state[8] = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], jobId
  call('HSET', KEYS[k + 2], unpack(state))
  local q = KEYS[k + 3]
  local l = pushes[q]
  if not l then
    l = {}
    pushes[q] = l
    order[#order + 1] = q
  end
  l[#l + 1] = jobId
  nexts[#nexts + 1] = nxt
  nexts[#nexts + 1] = id
  pend[#pend + 1] = at
  pend[#pend + 1] = jobId
  a = a + 4
end
for _, q in ipairs(order) do
  call('SADD', KEYS[2], q)
  call('RPUSH', q, unpack(pushes[q]))
end
call('ZADD', KEYS[1], unpack(nexts))
call('ZADD', KEYS[3], unpack(pend))
return 0`;

export interface FloorBatch {
  keys: string[];
  args: (string | Buffer)[];
}

/**
 * The floor's batches, from what a pyrq round just wrote for `items` (one enqueue per
 * item, every item applied): read back job hashes, run records, last-run state, next
 * fire times and pending scores. Throws when the round wrote another shape (more than
 * one job or record per item, another last-run state), so the floor never writes less
 * than pyrq did.
 */
export async function buildFullWriteBatches(
  c: Redis,
  keys: Keys,
  items: readonly FireItem[],
  batch: number,
): Promise<FloorBatch[]> {
  const p = c.pipeline();
  const jobIds: string[] = [];
  for (const it of items) {
    const ops = it.ops.filter((o) => o.kind === 'enqueue');
    if (ops.length !== 1 || it.ops.length !== 1) throw new Error(`floor: ${it.id} has ${it.ops.length} ops`);
    const jobId = (ops[0] as { jobId: string }).jobId;
    jobIds.push(jobId);
    p.hgetallBuffer(RqKeys.job(jobId));
    p.lrange(keys.runs(it.id), 0, -1);
    p.hgetall(keys.schedule(it.id));
    p.zscore(keys.next, it.id);
    p.zscore(keys.outcomesPending, jobId);
  }
  const r = ((await p.exec()) ?? []).map(([e, v]) => {
    if (e) throw e;
    return v;
  });
  const out: FloorBatch[] = [];
  for (let i = 0; i < items.length; i += batch) {
    const k: string[] = [keys.next, RqKeys.queues, keys.outcomesPending];
    const lists: string[] = []; // field names joined
    const body: (string | Buffer)[] = [];
    let at: string | null = null;
    for (let j = i; j < Math.min(items.length, i + batch); j++) {
      const id = items[j]!.id;
      const [h, recs, st, next, pending] = r.slice(5 * j, 5 * j + 5) as [
        Record<string, Buffer>,
        string[],
        Record<string, string>,
        string | null,
        string | null,
      ];
      const names = Object.keys(h);
      let t = lists.indexOf(names.join('\0'));
      if (t < 0) t = lists.push(names.join('\0')) - 1;
      if (recs.length !== 1) throw new Error(`floor: ${id} has ${recs.length} run records`);
      if (st.lastJobId !== jobIds[j] || next === null || pending === null)
        throw new Error(`floor: ${id}: unexpected state ${JSON.stringify(st)} / ${next} / ${pending}`);
      at ??= pending;
      k.push(RqKeys.job(jobIds[j]!), keys.runs(id), keys.schedule(id), RqKeys.queue(h.origin!.toString()));
      body.push(id, next, jobIds[j]!, String(t + 1), ...names.map((f) => h[f]!));
      body.push(recs[0]!, st.lastRunAt!, st.lastOutcome!, st.lastLatenessMs!);
    }
    const a: (string | Buffer)[] = [at!, String(lists.length)];
    for (const l of lists) {
      const names = l.split('\0');
      a.push(String(names.length), ...names);
    }
    a.push(...body);
    out.push({ keys: k, args: a });
  }
  return out;
}

/** The older floor: HSET + RPUSH per job, nothing else. KEYS: per job its hash and its queue; ARGV: per job id, n, n field names and values. */
export const BARE_LUA = `
local a = 1
for i = 1, #KEYS, 2 do
  local id, nf = ARGV[a], tonumber(ARGV[a + 1])
  redis.call('HSET', KEYS[i], unpack(ARGV, a + 2, a + 1 + nf))
  redis.call('RPUSH', KEYS[i + 1], id)
  a = a + 2 + nf
end
return 0`;

/** The bare floor's batches: the job hashes a pyrq round just wrote for `items`, read back. */
export async function bareBatches(c: Redis, items: readonly FireItem[], batch: number): Promise<FloorBatch[]> {
  const jobIds = items.flatMap((it) => it.ops.flatMap((op) => (op.kind === 'enqueue' ? [op.jobId] : [])));
  const p = c.pipeline();
  for (const id of jobIds) p.hgetallBuffer(RqKeys.job(id));
  const hashes = ((await p.exec()) ?? []).map(([, h]) => h as Record<string, Buffer>);
  const out: FloorBatch[] = [];
  for (let i = 0; i < jobIds.length; i += batch) {
    const k: string[] = [];
    const a: (string | Buffer)[] = [];
    for (let j = i; j < Math.min(jobIds.length, i + batch); j++) {
      k.push(RqKeys.job(jobIds[j]!), RqKeys.queue(hashes[j]!.origin!.toString()));
      const flat = Object.entries(hashes[j]!).flatMap(([f, v]) => [f, v]);
      a.push(jobIds[j]!, String(flat.length), ...flat);
    }
    out.push({ keys: k, args: a });
  }
  return out;
}
