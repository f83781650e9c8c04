/**
 * The socket's request handlers through their narrow `HandlerDeps`: a real reconcile
 * loop over the in-memory registry and an in-memory store of pushed schedules, no
 * daemon, no Redis (test/integration/daemon-socket.test.ts covers the real daemon).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Request } from '../../src/control/protocol.js';
import type { Reply } from '../../src/control/server.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { SOCKET_ORIGIN, SOCKET_SOURCE, type UpsertResult } from '../../sources/socket/socket-source.js';
import { DaemonHandlers, type HandlerDeps } from '../../reconcilers/daemon-handlers.js';
import { ReconcileLoop } from '../../reconcilers/reconcile-loop.js';
import { summarizeReconcile } from '../../src/status/reconcile-summary.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';
import { ListSource, makeSpec } from '../helpers/schedules.js';

/** Pushed schedules kept in memory, validated as the socket source validates them. */
class PushedSource implements Source {
  readonly name = SOCKET_SOURCE;
  readonly pushed = new Map<string, unknown>();
  async snapshot(): Promise<SourceSnapshot> {
    const schedules = [...this.pushed.values()].map((raw) => {
      const r = normalizeSchedule(raw, DEFAULT_CONTEXT);
      if (!r.ok) throw new Error('stored an invalid schedule');
      return { spec: r.schedule, hash: specHash(r.schedule), origin: SOCKET_ORIGIN };
    });
    return { source: this.name, schedules, errors: [], stale: false, heldOrigins: [], heldIds: [], changed: [] };
  }
  validate(raw: unknown): UpsertResult {
    const r = normalizeSchedule(raw, DEFAULT_CONTEXT);
    return r.ok
      ? { ok: true, schedule: r.schedule, hash: specHash(r.schedule) }
      : { ok: false, issues: r.issues, id: r.id };
  }
  async upsert(raw: unknown): Promise<UpsertResult> {
    const r = this.validate(raw);
    if (r.ok) this.pushed.set(r.schedule.id, raw);
    return r;
  }
  async remove(id: string): Promise<boolean> {
    return this.pushed.delete(id);
  }
  async close(): Promise<void> {}
}

function setup() {
  const registry = new MemoryRegistry();
  const files = new ListSource('files', [makeSpec({ id: 'from-file', every: 60 })]);
  const socket = new PushedSource();
  const sources: Source[] = [files, socket];
  const clock = new ManualClock(Date.parse('2026-06-01T12:00:00Z'));
  const loop = new ReconcileLoop(() => ({ sources, registry, clock }));
  const lease = { isLeader: true, holderId: 'host:1:aa', currentHolder: 'host:1:aa' };
  const ran: string[] = [];
  const deps: HandlerDeps = {
    clock,
    reconcile: (req) => loop.request(req),
    registry,
    socketSource: socket,
    sources: () => sources,
    runNow: async (id) => {
      ran.push(id);
      return {
        id,
        jobId: `manual-${id}`,
        queue: 'default',
        function: 'app.tasks.run',
        enqueuedAt: new Date(clock.now()).toISOString(),
      };
    },
    // Backfill goes to Redis (tested in test/integration/backfill.test.ts).
    backfill: async () => {
      throw new Error('no backfill here');
    },
    lease,
    // Pauses live in Redis (src/registry/pauses.ts, tested in test/integration/pause.test.ts): none here.
    pauses: {
      pause: async () => ({ paused: [], already: [], missing: [] }),
      resume: async () => ({ resumed: [], notPaused: [] }),
      read: async () => new Map(),
    },
    facts: {
      startedAt: clock.now(),
      socket: () => '/run/pyrq.sock',
      loop,
      sourceStatus: () => [{ source: 'files', stale: false, schedules: 1, held: 0, errors: [], at: clock.now() }],
      lastReconcile: () => (loop.lastResult ? summarizeReconcile(loop.lastResult, clock.now()) : null),
    },
  };
  const handlers = new DaemonHandlers(deps);
  const ask = async (req: Omit<Extract<Request, { kind: 'native' }>, 'kind'>) =>
    json(await handlers.handle({ kind: 'native', ...req }));
  const btu = async (requestType: string, content: string | null) =>
    text(await handlers.handle({ kind: 'btu', requestType, content }));
  return { registry, socket, loop, lease, ran, ask, btu };
}

const json = (r: Reply) =>
  ('json' in r ? r.json : { text: r.text }) as {
    ok: boolean;
    result?: Record<string, unknown>;
    error?: { code: string; message: string };
  };
const text = (r: Reply) => ('text' in r ? r.text : JSON.stringify(r.json));

describe('daemon request handlers (HandlerDeps)', () => {
  it('ping and status report the lease and the daemon facts', async () => {
    const { ask, lease, loop } = setup();
    expect((await ask({ op: 'ping' })).result).toMatchObject({ pong: true, leader: true });
    lease.isLeader = false;
    lease.currentHolder = 'other:2:bb';
    await ask({ op: 'reconcile' });
    const status = (await ask({ op: 'status' })).result!;
    expect(status.daemon).toMatchObject({
      leader: false,
      holderId: 'host:1:aa',
      currentLeader: 'other:2:bb',
      socket: '/run/pyrq.sock',
      startedAt: '2026-06-01T12:00:00.000Z',
    });
    expect(status.sources).toEqual([expect.objectContaining({ source: 'files', schedules: 1 })]);
    expect(status.lastReconcile).toMatchObject({ runId: loop.lastResult!.runId, created: 1, unchanged: 0, errors: 0 });
    expect((status.schedules as { id: string }[]).map((s) => s.id)).toEqual(['from-file']);
    await loop.stop();
  });

  it('status shows what was recorded in Redis for sources and a last reconcile this daemon has not (a standby)', async () => {
    const { ask, registry, loop } = setup();
    await registry.recordSourceStatus([
      {
        source: 'mysql',
        stale: true,
        schedules: 0,
        held: 2,
        errors: ['mysql://root@db:3306/site (btu): cannot connect'],
        at: 5,
        by: 'pyrq apply',
      },
    ]);
    await registry.recordDaemonFacts({
      lastReconcile: {
        at: 5,
        runId: 'leader1',
        durationMs: 3,
        created: 0,
        updated: 1,
        deleted: 0,
        unchanged: 4,
        errors: 0,
      },
    });
    const status = (await ask({ op: 'status' })).result!;
    expect((status.sources as { source: string }[]).map((s) => s.source)).toEqual(['files', 'mysql']);
    expect(status.lastReconcile).toMatchObject({ runId: 'leader1', updated: 1 });
    await loop.stop();
  });

  it('an upsert reconciles just the pushed id; an id another source owns is refused', async () => {
    const { ask, registry, socket, loop } = setup();
    await ask({ op: 'reconcile' });
    const created = await ask({ op: 'upsert', schedule: { id: 'pushed', function: 'app.tasks.run', every: 30 } });
    expect(created.result).toMatchObject({ id: 'pushed', action: 'create' });
    expect(await registry.has('pushed')).toBe(true);
    const taken = await ask({ op: 'upsert', schedule: { id: 'from-file', function: 'app.tasks.run', every: 30 } });
    expect(taken.error).toMatchObject({
      code: 'DAEMON_ERROR',
      message: expect.stringContaining('owned by source "files"'),
    });
    expect(socket.pushed.has('from-file')).toBe(false);
    const invalid = await ask({ op: 'upsert', schedule: { id: 'bad', function: 'app.tasks.run' } });
    expect(invalid.error?.code).toBe('VALIDATION_FAILED');
    expect(await ask({ op: 'delete', id: 'pushed' })).toMatchObject({
      ok: true,
      result: { id: 'pushed', deleted: true },
    });
    expect(await registry.has('pushed')).toBe(false);
    expect((await ask({ op: 'delete', id: 'from-file' })).error?.message).toContain('owned by source "files"'); // the CLI's words (issue 26)
    await loop.stop();
  });

  it('reload names the sources it has; trigger runs the schedule now', async () => {
    const { ask, ran, loop } = setup();
    expect((await ask({ op: 'reload', source: 'mysql' })).error).toEqual({
      code: 'NOT_FOUND',
      message: 'no source "mysql" in this daemon (it has: files, socket)',
    });
    expect((await ask({ op: 'reload', source: 'files' })).result).toMatchObject({ summary: { create: 1 } });
    expect((await ask({ op: 'trigger', id: 'from-file' })).result).toMatchObject({ jobId: 'manual-from-file' });
    expect(ran).toEqual(['from-file']);
    await loop.stop();
  });

  it("answers BTU's messages in BTU's words", async () => {
    const { btu, loop } = setup();
    expect(await btu('ping', null)).toBe('pong');
    expect(await btu('create_task_schedule', null)).toBe(
      "Request 'create_task_schedule' missing required argument 'request_content'",
    );
    expect(await btu('create_task_schedule', 'TS-1')).toBe(
      'Error: pyrq has no MySQL source configured (nor a PostgreSQL one), so it cannot read Task Schedule TS-1.',
    );
    expect(await btu('frobnicate', 'x')).toBe("Client message has an unhandled 'request_type': frobnicate");
    await loop.stop();
  });
});
