/**
 * BTU's commands arrive before the app's transaction commits.
 *
 * The app sends `create_task_schedule` from the Task Schedule's `on_update` (the 2024 app:
 * `before_save`) and `cancel_task_schedule` on disable or delete (`on_trash`), all inside
 * the request, before Frappe commits it (btu `btu_task_schedule.py`; the 2024 app's
 * socket client even waits up to 5.5 s for the reply before it goes on to commit). A
 * re-read at once sees the old committed row. So, per command:
 *
 * 1. `cancel` holds the schedule disabled at once and reconciles: it stops firing, as both
 *    of BTU's daemons remove a cancelled schedule at once (`rq_cancel_scheduled_task`).
 * 2. The row is re-read every `pollMs` (100 ms) until its committed state differs from
 *    what the source last applied, for at most `windowMs` (10 s, `COMMIT_WINDOW_MS`).
 * 3. Then the hold is released and the committed row is applied: only the committed row
 *    decides whether a cancelled schedule comes back (a cancel whose transaction rolled
 *    back, or a row still enabled when the window ends, is scheduled again).
 *
 * The command's reply is not delayed (BTU's app waits for it before committing). A new
 * command for the same id while one is waiting takes over its wait (and its hold, and the
 * state it compares with). The poll does not depend on `modified`: the row's mapped
 * schedule, errors and presence are compared.
 */
import type { Logger } from '../../src/log.js';
import type { ReconcileResultLike } from './await-commit-types.js';
import type { RowEntry } from '../sql/row-entry.js';

/** Longest wait for the app's commit after a command. */
export const COMMIT_WINDOW_MS = 10_000;
/** How often the row is re-read meanwhile. */
export const COMMIT_POLL_MS = 100;

/** What the watcher needs of a SQL source in BTU mode (`SqlSource`). */
export interface CommitPort {
  readonly name: string;
  /** False for a source that can only re-read as a whole (query mode): the command then applies what it reads now. */
  readonly canReadIds: boolean;
  kept(id: string): RowEntry | undefined;
  peekIds(ids: readonly string[]): Promise<Map<string, RowEntry | undefined>>;
  reloadIds(ids: readonly string[]): Promise<void>;
  hold(id: string): void;
  release(id: string): void;
}

export type BtuCommand = 'create_task_schedule' | 'cancel_task_schedule';

/** The committed state of one row as a comparable string: its schedule, its errors, or absent. Pure. */
export function rowVersion(e: RowEntry | undefined): string {
  if (!e) return 'absent';
  return JSON.stringify([e.schedule?.hash ?? null, e.held, e.errors.map((x) => x.message)]);
}

export interface CommitWatchOptions {
  /** Reconciles one source now; resolves with the run that covers it. */
  reconcile(source: string, reason: string): Promise<ReconcileResultLike>;
  logger?: Logger;
  windowMs?: number;
  pollMs?: number;
}

interface Waiting {
  baseline: string;
  generation: number;
  /** A read error was logged during this wait (logged once, not every 100 ms). */
  warned?: boolean;
}

export class BtuCommitWatch {
  private readonly waiting = new Map<string, Waiting>();
  private readonly loops = new Set<Promise<void>>();
  private generation = 0;
  private stopped = false;

  constructor(private readonly o: CommitWatchOptions) {}

  /**
   * Acts on one command: resolves once a cancel is in force (or the committed change, if
   * already there, is applied), with that reconcile's result; the wait for a later commit
   * goes on in the background.
   */
  async command(source: CommitPort, type: BtuCommand, id: string): Promise<ReconcileResultLike | undefined> {
    const key = `${source.name}\u0000${id}`;
    if (!source.canReadIds) {
      await source.reloadIds([id]);
      return this.o.reconcile(source.name, `BTU ${type} ${id}`);
    }
    const baseline = this.waiting.get(key)?.baseline ?? rowVersion(source.kept(id));
    const mine: Waiting = { baseline, generation: ++this.generation };
    this.waiting.set(key, mine);
    if (type === 'cancel_task_schedule') source.hold(id);
    if (await this.committed(source, id, baseline)) return this.finish(source, key, id, mine, 'committed');
    const result =
      type === 'cancel_task_schedule'
        ? await this.o.reconcile(source.name, `BTU cancel_task_schedule ${id} (held until the app commits)`)
        : undefined;
    const loop = this.wait(source, key, id, mine).finally(() => this.loops.delete(loop));
    this.loops.add(loop);
    return result;
  }

  /** Ends every wait (releasing nothing: the daemon is stopping) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.loops]);
  }

  private async wait(source: CommitPort, key: string, id: string, mine: Waiting): Promise<void> {
    const deadline = Date.now() + (this.o.windowMs ?? COMMIT_WINDOW_MS);
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? COMMIT_POLL_MS));
      if (this.stopped || this.waiting.get(key) !== mine) return; // stopping, or a newer command took over
      if (await this.committed(source, id, mine.baseline, mine)) {
        await this.finish(source, key, id, mine, 'committed');
        return;
      }
    }
    if (this.stopped || this.waiting.get(key) !== mine) return;
    this.o.logger?.info(
      { source: source.name, id, windowMs: this.o.windowMs ?? COMMIT_WINDOW_MS },
      'BTU command: the row did not change within the window; the committed row decides',
    );
    await this.finish(source, key, id, mine, 'window');
  }

  private async committed(source: CommitPort, id: string, baseline: string, mine?: Waiting): Promise<boolean> {
    try {
      return rowVersion((await source.peekIds([id])).get(id)) !== baseline;
    } catch (e) {
      if (!mine?.warned)
        this.o.logger?.warn(
          { source: source.name, id, err: { message: (e as Error).message } },
          'cannot re-read a BTU row; retrying until the commit window ends',
        );
      if (mine) mine.warned = true;
      return false;
    }
  }

  private async finish(
    source: CommitPort,
    key: string,
    id: string,
    mine: Waiting,
    why: 'committed' | 'window',
  ): Promise<ReconcileResultLike | undefined> {
    if (this.waiting.get(key) === mine) this.waiting.delete(key);
    source.release(id);
    await source.reloadIds([id]);
    try {
      return await this.o.reconcile(
        source.name,
        `BTU Task Schedule ${id} ${why === 'committed' ? 'committed' : 'after the commit window'}`,
      );
    } catch (e) {
      this.o.logger?.warn({ source: source.name, id, err: { message: (e as Error).message } }, 'BTU reconcile failed');
      return undefined;
    }
  }
}
