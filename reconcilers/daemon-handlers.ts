/**
 * What each control-socket request does in the daemon. Native requests get JSON
 * replies; BTU's messages get BTU's plain-text replies (the same texts BTU's own
 * scheduler daemon sends), so BTU users switch daemons without changing the app.
 */
import { formatSourceError } from '../src/source.js';
import type { Reply } from '../src/control/server.js';
import { type BtuRequest, type NativeRequest, type Request, errorReply, okReply } from '../src/control/protocol.js';
import { triggerRun } from '../src/dispatch/trigger.js';
import { PyrqError } from '../src/errors.js';
import { issueText } from '../src/model/issues.js';
import { planSummary } from '../src/plan/render.js';
import { statusRow } from '../src/status/status-view.js';
import { SOCKET_SOURCE } from '../sources/socket/socket-source.js';
import { btuSourceOf } from '../sources/sql/sql-source.js';
import type { Daemon } from './daemon.js';
import type { ReconcileResult } from './reconcile-once.js';
import { version as VERSION } from '../src/version.js';

export class DaemonHandlers {
  constructor(private readonly d: Daemon) {}

  async handle(req: Request): Promise<Reply> {
    if (req.kind === 'btu') return { text: await this.btu(req) };
    try {
      return { json: okReply(await this.native(req), req.reqId) };
    } catch (e) {
      const err = e as PyrqError;
      return { json: errorReply(err.code ?? 'ERROR', err.message, req.reqId) };
    }
  }

  private async native(req: NativeRequest): Promise<unknown> {
    switch (req.op) {
      case 'ping':
        return { pong: true, version: VERSION, pid: process.pid, leader: this.d.lease?.isLeader ?? false };
      case 'status':
        return this.status();
      case 'upsert':
        return this.upsert(req.schedule);
      case 'delete':
        return this.remove(req.id!);
      case 'reconcile':
        return outcome(await this.d.loop.request({ deep: true, reason: 'requested over the socket' }));
      case 'reload':
        return this.reload(req.source!, req.id);
      case 'trigger':
        return triggerRun({ redis: this.d.redis, keys: this.d.keys, clock: this.d.clock, config: this.d.config }, req.id!);
    }
  }

  private async status(): Promise<unknown> {
    const now = this.d.clock.now();
    const entries = await this.d.registry.readEntries();
    const last = this.d.loop.lastResult;
    return {
      daemon: {
        pid: process.pid,
        version: VERSION,
        startedAt: new Date(this.d.startedAt).toISOString(),
        holderId: this.d.lease?.holderId,
        leader: this.d.lease?.isLeader ?? false,
        currentLeader: this.d.lease?.currentHolder ?? null,
        socket: this.d.config.daemon.socket,
      },
      sources: [...this.d.health.values()],
      lastReconcile: last
        ? { at: this.d.loop.lastRunAt ? new Date(this.d.loop.lastRunAt).toISOString() : null, runId: last.runId, durationMs: last.durationMs, summary: planSummary(last.plan), errors: last.plan.errors.map(formatSourceError) }
        : null,
      lastError: this.d.loop.lastError ?? null,
      schedules: entries.map((e) => statusRow(e, now)),
    };
  }

  private async upsert(raw: unknown): Promise<unknown> {
    const id = (raw as { id?: unknown }).id;
    if (typeof id === 'string') await this.assertMayOwn(id);
    const r = await this.d.socketSource.upsert(raw);
    if (!r.ok) throw new PyrqError('VALIDATION_FAILED', `${r.id !== undefined ? `(id ${JSON.stringify(r.id)}) ` : ''}${r.issues.map(issueText).join('; ')}`);
    const result = await this.d.loop.request({ sources: [SOCKET_SOURCE], scope: [r.schedule.id], reason: 'socket upsert' });
    const change = result.plan.changes.find((c) => c.id === r.schedule.id);
    const error = result.plan.errors.find((e) => e.id === r.schedule.id);
    if (error) throw new PyrqError('DAEMON_ERROR', formatSourceError(error));
    return { id: r.schedule.id, action: change?.action ?? 'unchanged', hash: r.hash };
  }

  /** A pushed schedule may not take an id that another configured source owns. */
  private async assertMayOwn(id: string): Promise<void> {
    const owner = (await this.d.registry.readIndexIds([id])).get(id);
    if (owner && owner.source !== SOCKET_SOURCE) {
      throw new PyrqError('DAEMON_ERROR', `id ${JSON.stringify(id)} is owned by source "${owner.source}" (${owner.origin}); change it there, or choose another id`);
    }
  }

  private async remove(id: string): Promise<unknown> {
    if (await this.d.socketSource.remove(id)) {
      const result = await this.d.loop.request({ sources: [SOCKET_SOURCE], scope: [id], reason: 'socket delete' });
      return { id, deleted: result.plan.changes.some((c) => c.id === id && c.action === 'delete') || !(await this.d.registry.readIndexIds([id])).has(id) };
    }
    const owner = (await this.d.registry.readIndexIds([id])).get(id);
    if (owner) throw new PyrqError('DAEMON_ERROR', `id ${JSON.stringify(id)} belongs to source "${owner.source}" (${owner.origin}), not to the socket; delete it there`);
    return { id, deleted: false, reason: 'no such pushed schedule' };
  }

  private async reload(source: string, id?: string): Promise<unknown> {
    const s = this.d.sources.find((x) => x.name === source);
    if (!s) throw new PyrqError('NOT_FOUND', `no source "${source}" in this daemon (it has: ${this.d.sources.map((x) => x.name).join(', ')})`);
    if (id !== undefined && s.reloadIds) await s.reloadIds([id]);
    return outcome(await this.d.loop.request({ sources: [source], deep: id === undefined, reason: `reload ${source}${id ? ` ${id}` : ''}` }));
  }

  /** BTU's three messages, answered in BTU's own words. */
  private async btu(req: BtuRequest): Promise<string> {
    const name = req.content;
    switch (req.requestType) {
      case 'ping':
        return 'pong';
      case 'create_task_schedule':
      case 'cancel_task_schedule': {
        if (!name) return `Request '${req.requestType}' missing required argument 'request_content'`;
        const sql = btuSourceOf(this.d.sources);
        if (!sql) return `Error: pyrq has no MySQL source configured (nor a PostgreSQL one), so it cannot read Task Schedule ${name}.`;
        try {
          await sql.reloadIds([name]);
          const result = await this.d.loop.request({ sources: [sql.name], reason: `BTU ${req.requestType} ${name}` });
          const error = result.plan.errors.find((e) => e.id === name);
          if (error) return `Error: Task Schedule ${name}: ${formatSourceError(error)}`;
          if (req.requestType === 'create_task_schedule') return `BTU Scheduler now re-processing Task Schedule ${name} in Python RQ.`;
          const entry = (await this.d.registry.readIndexIds([name])).get(name);
          const spec = entry ? (await this.d.registry.readSpecs([name])).get(name) : undefined;
          if (!entry || spec?.enabled === false) return `Successfully cancelled BTU Task Schedule ${name} in Python RQ.`;
          return `Task Schedule ${name} is still enabled in the database, so it stays scheduled; disable or delete it first.`;
        } catch (e) {
          return `Error: ${(e as Error).message}`;
        }
      }
      default:
        return `Client message has an unhandled 'request_type': ${req.requestType}`;
    }
  }
}

function outcome(r: ReconcileResult): unknown {
  return {
    runId: r.runId,
    durationMs: r.durationMs,
    summary: planSummary(r.plan),
    applied: r.applied ? { created: r.applied.created, updated: r.applied.updated, deleted: r.applied.deleted, conflicts: r.applied.conflicts } : undefined,
    errors: r.plan.errors.map(formatSourceError),
  };
}
