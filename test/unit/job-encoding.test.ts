import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { FRAPPE_EXECUTE_JOB } from '../../src/rq/frappe-target.js';
import { callString, encodeSchedule, jobHashFields, rqTimestamp } from '../../src/rq/job-encoding.js';
import { manualJobId, scheduledJobId } from '../../src/rq/job-id.js';
import { python } from '../helpers/python.js';

function spec(fields: Record<string, unknown>): Schedule {
  const r = normalizeSchedule(
    { id: 'nightly.report_x', function: 'app.tasks.run', cron: '0 2 * * *', ...fields },
    { ...DEFAULT_CONTEXT, frappeSite: 'erp.example.com' },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

const OCC = Date.parse('2026-03-01T02:00:00Z');
const NOW = OCC + 1234;

/** Field name -> value, buffers as base64 (for Python). */
function asObject(fields: (string | Buffer)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const v = fields[i + 1]!;
    out[String(fields[i])] = Buffer.isBuffer(v) ? `b64:${v.toString('base64')}` : `str:${v}`;
  }
  return out;
}

/** Loads the hash with RQ's own Job.restore (no Redis needed) and reports what RQ sees. */
const RESTORE_PY = `
import base64, json, sys, redis
from rq.job import Job
raw = json.load(sys.stdin)
h = {k.encode(): (base64.b64decode(v[4:]) if v.startswith('b64:') else v[4:].encode()) for k, v in raw.items()}
job = Job('x', connection=redis.Redis())
job.restore(h)
def j(v):
    if isinstance(v, tuple): return {'tuple': [j(x) for x in v]}
    if isinstance(v, list): return [j(x) for x in v]
    if isinstance(v, dict): return {k: j(x) for k, x in v.items()}
    if isinstance(v, int) and not isinstance(v, bool): return {'int': str(v)}
    return v
print(json.dumps({
  'func_name': job.func_name, 'instance': job.instance, 'args': j(job.args), 'kwargs': j(job.kwargs),
  'meta': j(job.meta), 'timeout': job.timeout, 'result_ttl': job.result_ttl, 'failure_ttl': job.failure_ttl,
  'ttl': job.ttl, 'status': job.get_status(refresh=False), 'origin': job.origin, 'description': job.description,
  'created_at': job.created_at.isoformat(), 'enqueued_at': job.enqueued_at.isoformat(),
  'failure_callback_name': job._failure_callback_name,
}))
`;

async function restoreInRq(fields: (string | Buffer)[]) {
  return JSON.parse(await python(RESTORE_PY, { input: JSON.stringify(asObject(fields)) }));
}

describe('RQ job encoding', () => {
  it('formats timestamps as RQ does (%Y-%m-%dT%H:%M:%S.%fZ)', () => {
    expect(rqTimestamp(Date.parse('2026-03-01T02:00:01.234Z'))).toBe('2026-03-01T02:00:01.234000Z');
  });

  it('writes the fields a worker needs, and RQ 1.13 restores them exactly', async () => {
    const s = spec({
      args: [1, 'two', [true, null]],
      kwargs: { big: 2n ** 70n, f: 1.5, nested: { a: [] } },
      queue: 'reports',
      timeout: 600,
      resultTtl: 3600,
      failureTtl: -1,
      ttl: 120,
      meta: { team: 'billing' },
    });
    const enc = encodeSchedule(s, specHash(s));
    const fields = jobHashFields(enc, OCC, NOW, 'schedule');
    const names = fields.filter((_, i) => i % 2 === 0);
    expect(names).toEqual([
      'data',
      'status',
      'origin',
      'description',
      'timeout',
      'result_ttl',
      'failure_ttl',
      'ttl',
      'created_at',
      'enqueued_at',
      'meta',
    ]);
    expect(enc.queueKey).toBe('rq:queue:reports');
    expect(enc.ttl).toBe(120);
    const seen = await restoreInRq(fields);
    expect(seen).toEqual({
      func_name: 'app.tasks.run',
      instance: null,
      args: { tuple: [{ int: '1' }, 'two', [true, null]] },
      kwargs: { big: { int: (2n ** 70n).toString() }, f: 1.5, nested: { a: [] } },
      meta: {
        team: 'billing',
        pyrq: {
          schedule: 'nightly.report_x',
          occurrence: '2026-03-01T02:00:00.000Z',
          trigger: 'schedule',
          hash: specHash(s),
        },
      },
      timeout: 600,
      result_ttl: 3600,
      failure_ttl: -1,
      ttl: 120,
      status: 'queued',
      origin: 'reports',
      description: "app.tasks.run(1, 'two', [True, None], big=1180591620717411303424, f=1.5, nested={'a': []})",
      created_at: '2026-03-01T02:00:01.234000',
      enqueued_at: '2026-03-01T02:00:01.234000',
      failure_callback_name: null,
    });
  });

  it('leaves result_ttl, failure_ttl and ttl to RQ when the schedule does not set them', () => {
    const s = spec({ description: 'Nightly' });
    const fields = jobHashFields(encodeSchedule(s, specHash(s)), OCC, NOW, 'schedule');
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual([
      'data',
      'status',
      'origin',
      'description',
      'timeout',
      'created_at',
      'enqueued_at',
      'meta',
    ]);
    expect(fields[7]).toBe('Nightly');
  });

  it('frappe target: execute_job(site, user, method, event, job_name, is_async, kwargs), args=()', async () => {
    const s = spec({
      target: 'frappe',
      user: 'reports@example.com',
      queue: 'long',
      kwargs: { warehouse: 'Main - ACME' },
    });
    const enc = encodeSchedule(s, specHash(s), { frappeBenchId: 'home-frappe-frappe-bench' });
    expect(enc.queueName).toBe('home-frappe-frappe-bench:long');
    expect(enc.queueKey).toBe('rq:queue:home-frappe-frappe-bench:long');
    const seen = await restoreInRq(jobHashFields(enc, OCC, NOW, 'schedule'));
    expect(seen.func_name).toBe(FRAPPE_EXECUTE_JOB);
    expect(seen.args).toEqual({ tuple: [] });
    expect(seen.kwargs).toEqual({
      site: 'erp.example.com',
      user: 'reports@example.com',
      method: 'app.tasks.run',
      event: null,
      job_name: 'app.tasks.run',
      is_async: true,
      kwargs: { warehouse: 'Main - ACME' },
    });
    // Frappe's own defaults: long queue 1500 s; v15's result and failure TTLs.
    expect([seen.timeout, seen.result_ttl, seen.failure_ttl, seen.origin]).toEqual([
      1500,
      600,
      604800,
      'home-frappe-frappe-bench:long',
    ]);
    expect(seen.description).toBe("app.tasks.run(warehouse='Main - ACME')");
  });

  it('frappe target without a bench id uses the bare queue name (Frappe v13 layout)', () => {
    const s = spec({ target: 'frappe', queue: 'short' });
    expect(encodeSchedule(s, specHash(s)).queueKey).toBe('rq:queue:short');
  });

  it('frappe target refuses positional args (execute_job only passes kwargs)', () => {
    // Validation refuses this up front; a spec stored by an older pyrq could still hold it.
    const s = { ...spec({ target: 'frappe' }), args: [1] };
    expect(() => encodeSchedule(s, specHash(s))).toThrow(/cannot pass positional args/);
  });

  it('manual runs carry trigger "manual" in meta', async () => {
    const s = spec({});
    const seen = await restoreInRq(jobHashFields(encodeSchedule(s, specHash(s)), NOW, NOW, 'manual'));
    expect(seen.meta.pyrq.trigger).toBe('manual');
    expect(seen.meta.pyrq.occurrence).toBe('2026-03-01T02:00:01.234Z');
  });

  it('jobIdKwarg: each job carries its own id (scheduled: patched into one pickle; manual: its own), onFailure becomes failure_callback_name', async () => {
    const s = spec({
      target: 'frappe',
      kwargs: { task_id: 'BTU-1' },
      jobIdKwarg: 'rq_job_id',
      onFailure: 'btu.btu_core.task_runner.on_btu_task_failure',
    });
    const enc = encodeSchedule(s, specHash(s));
    const ids = [scheduledJobId(s.id, OCC), scheduledJobId(s.id, OCC + 86_400_000), manualJobId(s.id, NOW, '0badcafe')];
    for (const id of ids) {
      const seen = await restoreInRq(jobHashFields(enc, OCC, NOW, 'schedule', id));
      expect(seen.kwargs.kwargs, id).toEqual({ task_id: 'BTU-1', rq_job_id: id });
      expect(seen.failure_callback_name).toBe('btu.btu_core.task_runner.on_btu_task_failure');
    }
    // Without the field, every job shares the schedule's data and has no callback.
    const plain = encodeSchedule(spec({}), 'h');
    expect(jobHashFields(plain, OCC, NOW, 'schedule', ids[0])[1]).toBe(plain.data);
    expect(jobHashFields(plain, OCC, NOW, 'schedule')).not.toContain('failure_callback_name');
  });

  it('describes calls the way RQ does', () => {
    expect(callString('m.f', [], {})).toBe('m.f()');
    expect(callString('m.f', ["it's", 0.5], { x: { y: [1] } })).toBe("m.f('it\\'s', 0.5, x={'y': [1]})");
    expect(callString('m.f', ['x'.repeat(2000)], {}).length).toBe(1000);
  });
});
