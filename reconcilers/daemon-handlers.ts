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
import type { BackfillResult } from '../src/dispatch/backfill.js';
import { PyrqError } from '../src/errors.js';
import { issueText } from '../src/model/issues.js';
import { pastOneShot } from '../src/schedule/triggers/index.js';
import type { Pause, PauseOutcome, ResumeOutcome } from '../src/registry/pauses.js';
import { whereToRemove } from '../src/registry/remove-entries.js';
import { planSummary } from '../src/plan/render.js';
import type { ReconcileSummary, RegistryPort, SourceStatus } from '../src/registry/registry-port.js';
import { formatSourceError, type Source } from '../src/source.js';
import { daemonClocks } from '../src/status/daemon-clocks.js';
import { orphansOf } from '../src/status/orphans.js';
import { statusRow } from '../src/status/status-view.js';
import { SOCKET_SOURCE, type SocketSource } from '../sources/socket/socket-source.js';
import { btuSourcesOf } from '../sources/sql/sql-source.js';
import { BTU_MAX_CONTENT_CHARS } from './btu-rpc-listener.js';
import { type BtuCommand, BtuCommitWatch } from '../sources/btu/await-commit.js';
import type { Logger } from '../src/log.js';
import type { LeaderLease } from './leader-lease.js';
import type { ReconcileLoop, ReconcileRequest } from './reconcile-loop.js';
import type { ReconcileResult } from './reconcile-once.js';
import { version as VERSION } from '../src/version.js';

/** The narrow view of the daemon that the request handlers work with. */
export interface HandlerDeps {
  clock: Clock;
  /** Asks for a reconcile; resolves with the run that covers it (rejects when that run failed). */
  reconcile(req: ReconcileRequest): Promise<ReconcileResult>;
  registry: Pick<RegistryPort, 'readEntries' | 'readIndexIds' | 'readSpecs' | 'readSourceStatus' | 'readDaemonFacts'>;
  socketSource: Pick<SocketSource, 'upsert' | 'remove' | 'validate'>;
  /** The daemon's sources as they are now (a configuration reload replaces them). */
  sources(): readonly Source[];
  /** Enqueues one run of schedule `id` now (`pyrq trigger`). */
  runNow(id: string): Promise<ManualRunResult>;
  /** Enqueues the occurrences of schedule `id` in a past range (`pyrq backfill`). */
  backfill(
    id: string,
    from: string,
    to: string,
    opts: { dryRun?: boolean; confirmAbove?: number; yes?: boolean },
  ): Promise<BackfillResult>;
  lease: Pick<LeaderLease, 'isLeader' | 'holderId' | 'currentHolder'>;
  /** Pause and resume schedules (`src/registry/pauses.ts`). */
  pauses: {
    pause(ids: readonly string[] | 'all', reason?: string): Promise<PauseOutcome>;
    resume(ids: readonly string[] | 'all'): Promise<ResumeOutcome>;
    read(): Promise<Map<string, Pause>>;
  };
  logger?: Logger;
  /** How long a BTU command waits for the app's commit (default `COMMIT_WINDOW_MS`). */
  btuCommitWindowMs?: number;
  /** What `status` reports about the daemon itself. */
  facts: {
    startedAt: number;
    /** The socket path as configured (a reload may change the setting; the daemon keeps serving where it started). */
    socket(): string;
    loop: Pick<ReconcileLoop, 'lastResult' | 'lastRunAt' | 'lastError'>;
    /** Health of each source after the last reconcile. */
    sourceStatus(): SourceStatus[];
    /** The summary of this daemon's last reconcile (null: none yet, e.g. a standby). */
    lastReconcile(): ReconcileSummary | null;
  };
}

export class DaemonHandlers {
  /** BTU's commands come before the app's commit: each waits for the committed row (bounded). */
  private readonly commitWatch: BtuCommitWatch;

  constructor(private readonly d: HandlerDeps) {
    this.commitWatch = new BtuCommitWatch({
      reconcile: (source, reason) => this.d.reconcile({ sources: [source], reason }),
      logger: d.logger,
      windowMs: d.btuCommitWindowMs,
    });
  }

  /** Ends the waits for BTU commits (daemon stop). */
  async close(): Promise<void> {
    await this.commitWatch.stop();
  }

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
      case 'pause':
        return this.d.pauses.pause(
          req.all ? 'all' : [...(req.id !== undefined ? [req.id] : []), ...(req.ids ?? [])],
          req.reason,
        );
      case 'resume':
        return this.d.pauses.resume(req.all ? 'all' : [...(req.id !== undefined ? [req.id] : []), ...(req.ids ?? [])]);
      case 'upsert':
        return req.schedules ? this.upsertAll(req.schedules) : this.upsert(req.schedule);
      case 'delete':
        return this.remove(req.id!);
      case 'reconcile':
        return outcome(await this.d.reconcile({ deep: true, reason: 'requested over the socket' }));
      case 'reload':
        return this.reload(req.source!, req.id);
      case 'trigger':
        return this.d.runNow(req.id!);
      case 'backfill':
        return this.d.backfill(req.id!, req.from!, req.to!, {
          dryRun: req.dryRun,
          confirmAbove: req.limit,
          yes: req.yes,
        });
      default: {
        // An op in the protocol's OPS without a case here fails to compile.
        const unhandled: never = req.op;
        throw new PyrqError('DAEMON_ERROR', `op ${JSON.stringify(unhandled)} has no handler`);
      }
    }
  }

  private async status(): Promise<unknown> {
    const now = this.d.clock.now();
    const [entries, recordedSources, recordedFacts, pauses] = await Promise.all([
      this.d.registry.readEntries(),
      this.d.registry.readSourceStatus(),
      this.d.registry.readDaemonFacts(),
      this.d.pauses.read(),
    ]);
    const { startedAt, socket, loop, sourceStatus, lastReconcile } = this.d.facts;
    // The same sources and last reconcile as `status` reads from Redis when no daemon
    // answers: what this daemon knows now, over what was recorded (by the leader, when
    // this one stands by; by `pyrq apply` for a source this daemon does not read).
    const live = sourceStatus();
    const sources = [...recordedSources.filter((r) => !live.some((s) => s.source === r.source)), ...live].sort((a, b) =>
      a.source.localeCompare(b.source),
    );
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
      sources,
      lastReconcile: lastReconcile() ?? recordedFacts.lastReconcile ?? null,
      lastError: loop.lastError ?? null,
      clocks: daemonClocks(recordedFacts),
      schedules: entries.map((e) => statusRow(e, now, pauses.get(e.id))),
      orphans: orphansOf(
        new Map(entries.map((e) => [e.id, e])),
        this.d.sources().map((s) => s.name),
      ),
    };
  }

  private async upsert(raw: unknown): Promise<unknown> {
    const id = (raw as { id?: unknown }).id;
    if (typeof id === 'string') await this.assertMayOwn(id);
    const r = await this.d.socketSource.upsert(raw);
    if (!r.ok)
      throw new PyrqError(
        'VALIDATION_FAILED',
        `${r.id !== undefined ? `(id ${JSON.stringify(r.id)}) ` : ''}${r.issues.map(issueText).join('; ')}`,
      );
    const result = await this.d.reconcile({
      sources: [SOCKET_SOURCE],
      scope: [r.schedule.id],
      reason: 'socket upsert',
    });
    const change = result.plan.changes.find((c) => c.id === r.schedule.id);
    const error = result.plan.errors.find((e) => e.id === r.schedule.id);
    if (error) throw new PyrqError('DAEMON_ERROR', formatSourceError(error));
    return { id: r.schedule.id, action: change?.action ?? 'unchanged', hash: r.hash };
  }

  /**
   * Several schedules in one request, all or nothing (`pyrq push` of a file): every one
   * is validated and checked for its id's owner and for a one-shot in the past before
   * any is stored; one problem stores none, and every problem is reported.
   */
  private async upsertAll(raws: readonly unknown[]): Promise<unknown> {
    const now = this.d.clock.now();
    const problems: string[] = [];
    const valid: { id: string; hash: string; spec: Parameters<typeof pastOneShot>[0] }[] = [];
    raws.forEach((raw, i) => {
      const r = this.d.socketSource.validate(raw);
      if (!r.ok)
        problems.push(
          `schedule ${i + 1}${r.id !== undefined ? ` (id ${JSON.stringify(r.id)})` : ''}: ${r.issues.map(issueText).join('; ')}`,
        );
      else valid.push({ id: r.schedule.id, hash: r.hash, spec: r.schedule });
    });
    const seen = new Set<string>();
    for (const v of valid) {
      if (seen.has(v.id)) problems.push(`id ${JSON.stringify(v.id)} appears twice`);
      seen.add(v.id);
    }
    const owners = await this.d.registry.readIndexIds(valid.map((v) => v.id));
    const applied = await this.d.registry.readSpecs(valid.filter((v) => owners.has(v.id)).map((v) => v.id));
    for (const v of valid) {
      const owner = owners.get(v.id);
      if (owner && owner.source !== SOCKET_SOURCE)
        problems.push(
          `id ${JSON.stringify(v.id)} is owned by source "${owner.source}" (${owner.origin}); change it there, or choose another id`,
        );
      const past = pastOneShot(v.spec, now);
      // As the plan rules: a one-shot may not be aimed at the past (unless that is what is applied).
      if (past && applied.get(v.id)?.[past.field] !== past.value)
        problems.push(`id ${JSON.stringify(v.id)}: ${past.field}: ${String(past.value)} is in the past`);
    }
    if (problems.length > 0) throw new PyrqError('VALIDATION_FAILED', `nothing pushed: ${problems.join('\n')}`);
    for (const raw of raws) await this.d.socketSource.upsert(raw);
    const ids = valid.map((v) => v.id);
    const result = await this.d.reconcile({ sources: [SOCKET_SOURCE], scope: ids, reason: 'socket upsert' });
    const errors = result.plan.errors.filter((e) => e.id !== undefined && seen.has(e.id));
    if (errors.length > 0) throw new PyrqError('DAEMON_ERROR', errors.map(formatSourceError).join('\n'));
    return {
      pushed: valid.map((v) => ({
        id: v.id,
        action: result.plan.changes.find((c) => c.id === v.id)?.action ?? 'unchanged',
        hash: v.hash,
      })),
    };
  }

  /** A pushed schedule may not take an id that another configured source owns. */
  private async assertMayOwn(id: string): Promise<void> {
    const owner = (await this.d.registry.readIndexIds([id])).get(id);
    if (owner && owner.source !== SOCKET_SOURCE) {
      throw new PyrqError(
        'DAEMON_ERROR',
        `id ${JSON.stringify(id)} is owned by source "${owner.source}" (${owner.origin}); change it there, or choose another id`,
      );
    }
  }

  private async remove(id: string): Promise<unknown> {
    if (await this.d.socketSource.remove(id)) {
      const result = await this.d.reconcile({ sources: [SOCKET_SOURCE], scope: [id], reason: 'socket delete' });
      return {
        id,
        deleted:
          result.plan.changes.some((c) => c.id === id && c.action === 'delete') ||
          !(await this.d.registry.readIndexIds([id])).has(id),
      };
    }
    const owner = (await this.d.registry.readIndexIds([id])).get(id);
    if (owner)
      throw new PyrqError(
        'DAEMON_ERROR',
        // The same words as `pyrq delete` without a daemon (docs/operating.md quotes them).
        `${id}: owned by source "${owner.source}" (${owner.origin}), not pushed: ${whereToRemove(owner.source, owner.origin)}`,
      );
    return { id, deleted: false, reason: 'no such pushed schedule' };
  }

  private async reload(source: string, id?: string): Promise<unknown> {
    const sources = this.d.sources();
    const s = sources.find((x) => x.name === source);
    if (!s)
      throw new PyrqError(
        'NOT_FOUND',
        `no source "${source}" in this daemon (it has: ${sources.map((x) => x.name).join(', ')})`,
      );
    if (id !== undefined && s.reloadIds) await s.reloadIds([id]);
    return outcome(
      await this.d.reconcile({
        sources: [source],
        deep: id === undefined,
        reason: `reload ${source}${id ? ` ${id}` : ''}`,
      }),
    );
  }

  /** BTU's three messages, answered in BTU's own words (from the socket, or from BTU's Redis channel). */
  async btu(req: BtuRequest): Promise<string> {
    const name = req.content;
    switch (req.requestType) {
      case 'ping':
        return 'pong';
      case 'create_task_schedule':
      case 'cancel_task_schedule': {
        if (!name) return `Request '${req.requestType}' missing required argument 'request_content'`;
        // The same bound as the Redis channel's, for the socket's BTU messages (up to 1 MiB) too.
        if (name.length > BTU_MAX_CONTENT_CHARS)
          return `Error: request_content is ${name.length} characters; at most ${BTU_MAX_CONTENT_CHARS} are accepted (BTU names are at most 140)`;
        const sqls = btuSourcesOf(this.d.sources());
        if (sqls.length === 0)
          return `Error: pyrq has no MySQL source configured (nor a PostgreSQL one), so it cannot read Task Schedule ${name}.`;
        try {
          // The app sends this before its transaction commits: see sources/btu/await-commit.ts.
          // The command names no site (every site of a bench pushes onto the same list): it acts
          // on the id in every BTU source, each under its own schedule id (site1.TS-000001).
          const results = await Promise.all(
            sqls.map(async (sql) => {
              const id = sql.scheduleIdOf(name);
              const result = await this.commitWatch.command(sql, req.requestType as BtuCommand, id);
              return result?.plan.errors.find((e) => e.id === id);
            }),
          );
          const error = results.find((e) => e !== undefined);
          if (error) return `Error: Task Schedule ${name}: ${formatSourceError(error)}`;
          if (req.requestType === 'create_task_schedule')
            return `BTU Scheduler now re-processing Task Schedule ${name} in Python RQ.`;
          return `Successfully cancelled BTU Task Schedule ${name} in Python RQ.`;
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
    applied: r.applied
      ? {
          created: r.applied.created,
          updated: r.applied.updated,
          deleted: r.applied.deleted,
          conflicts: r.applied.conflicts,
        }
      : undefined,
    errors: r.plan.errors.map(formatSourceError),
  };
}
