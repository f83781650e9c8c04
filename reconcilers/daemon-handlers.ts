/**
 * What each control-socket request does in the daemon. Native requests get JSON
 * replies; BTU's messages get BTU's plain-text replies (the same texts BTU's own
 * scheduler daemon sends), so BTU users switch daemons without changing the app.
 *
 * The handlers see the daemon only through `HandlerDeps`: what a request may do (ask
 * for a reconcile, read the registry, push to the socket source, run a schedule now)
 * and what `status` reports. They never hold the daemon itself.
 */
import type { Clock } from '../src/clock.js';
import type { Reply } from '../src/control/server.js';
import { type BtuRequest, type NativeRequest, type Request, errorReply, okReply } from '../src/control/protocol.js';
import type { ManualRunResult } from '../src/dispatch/manual-run.js';
import { PyrqError } from '../src/errors.js';
import { issueText } from '../src/model/issues.js';
import { planSummary } from '../src/plan/render.js';
import type { RegistryPort, SourceStatus } from '../src/registry/registry-port.js';
import { formatSourceError, type Source } from '../src/source.js';
import { daemonClocks } from '../src/status/daemon-clocks.js';
import { statusRow } from '../src/status/status-view.js';
import { SOCKET_SOURCE, type SocketSource } from '../sources/socket/socket-source.js';
import { btuSourceOf } from '../sources/sql/sql-source.js';
import type { LeaderLease } from './leader-lease.js';
import type { ReconcileLoop, ReconcileRequest } from './reconcile-loop.js';
import type { ReconcileResult } from './reconcile-once.js';
import { version as VERSION } from '../src/version.js';

/** The narrow view of the daemon that the request handlers work with. */
export interface HandlerDeps {
  clock: Clock;
  /** Asks for a reconcile; resolves with the run that covers it (rejects when that run failed). */
  reconcile(req: ReconcileRequest): Promise<ReconcileResult>;
  registry: Pick<RegistryPort, 'readEntries' | 'readIndexIds' | 'readSpecs' | 'readDaemonFacts'>;
  socketSource: Pick<SocketSource, 'upsert' | 'remove'>;
  /** The daemon's sources as they are now (a configuration reload replaces them). */
  sources(): readonly Source[];
  /** Enqueues one run of schedule `id` now (`pyrq trigger`). */
  runNow(id: string): Promise<ManualRunResult>;
  lease: Pick<LeaderLease, 'isLeader' | 'holderId' | 'currentHolder'>;
  /** What `status` reports about the daemon itself. */
  facts: {
    startedAt: number;
    /** The socket path as configured (a reload may change the setting; the daemon keeps serving where it started). */
    socket(): string;
    loop: Pick<ReconcileLoop, 'lastResult' | 'lastRunAt' | 'lastError'>;
    /** Health of each source after the last reconcile. */
    sourceStatus(): SourceStatus[];
  };
}

export class DaemonHandlers {
  constructor(private readonly d: HandlerDeps) {}

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
        return { pong: true, version: VERSION, pid: process.pid, leader: this.d.lease.isLeader };
      case 'status':
        return this.status();
      case 'upsert':
        return this.upsert(req.schedule);
      case 'delete':
        return this.remove(req.id!);
      case 'reconcile':
        return outcome(await this.d.reconcile({ deep: true, reason: 'requested over the socket' }));
      case 'reload':
        return this.reload(req.source!, req.id);
      case 'trigger':
        return this.d.runNow(req.id!);
    }
  }

  private async status(): Promise<unknown> {
    const now = this.d.clock.now();
    const [entries, facts] = await Promise.all([this.d.registry.readEntries(), this.d.registry.readDaemonFacts()]);
    const { startedAt, socket, loop, sourceStatus } = this.d.facts;
    const last = loop.lastResult;
    return {
      daemon: {
        pid: process.pid,
        version: VERSION,
        startedAt: new Date(startedAt).toISOString(),
        holderId: this.d.lease.holderId,
        leader: this.d.lease.isLeader,
        currentLeader: this.d.lease.currentHolder ?? null,
        socket: socket(),
      },
      sources: sourceStatus(),
      lastReconcile: last
        ? { at: loop.lastRunAt ? new Date(loop.lastRunAt).toISOString() : null, runId: last.runId, durationMs: last.durationMs, summary: planSummary(last.plan), errors: last.plan.errors.map(formatSourceError) }
        : null,
      lastError: loop.lastError ?? null,
      clocks: daemonClocks(facts),
      schedules: entries.map((e) => statusRow(e, now)),
    };
  }

  private async upsert(raw: unknown): Promise<unknown> {
    const id = (raw as { id?: unknown }).id;
    if (typeof id === 'string') await this.assertMayOwn(id);
    const r = await this.d.socketSource.upsert(raw);
    if (!r.ok) throw new PyrqError('VALIDATION_FAILED', `${r.id !== undefined ? `(id ${JSON.stringify(r.id)}) ` : ''}${r.issues.map(issueText).join('; ')}`);
    const result = await this.d.reconcile({ sources: [SOCKET_SOURCE], scope: [r.schedule.id], reason: 'socket upsert' });
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
      const result = await this.d.reconcile({ sources: [SOCKET_SOURCE], scope: [id], reason: 'socket delete' });
      return { id, deleted: result.plan.changes.some((c) => c.id === id && c.action === 'delete') || !(await this.d.registry.readIndexIds([id])).has(id) };
    }
    const owner = (await this.d.registry.readIndexIds([id])).get(id);
    if (owner) throw new PyrqError('DAEMON_ERROR', `id ${JSON.stringify(id)} belongs to source "${owner.source}" (${owner.origin}), not to the socket; delete it there`);
    return { id, deleted: false, reason: 'no such pushed schedule' };
  }

  private async reload(source: string, id?: string): Promise<unknown> {
    const sources = this.d.sources();
    const s = sources.find((x) => x.name === source);
    if (!s) throw new PyrqError('NOT_FOUND', `no source "${source}" in this daemon (it has: ${sources.map((x) => x.name).join(', ')})`);
    if (id !== undefined && s.reloadIds) await s.reloadIds([id]);
    return outcome(await this.d.reconcile({ sources: [source], deep: id === undefined, reason: `reload ${source}${id ? ` ${id}` : ''}` }));
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
        const sql = btuSourceOf(this.d.sources());
        if (!sql) return `Error: pyrq has no MySQL source configured (nor a PostgreSQL one), so it cannot read Task Schedule ${name}.`;
        try {
          await sql.reloadIds([name]);
          const result = await this.d.reconcile({ sources: [sql.name], reason: `BTU ${req.requestType} ${name}` });
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
