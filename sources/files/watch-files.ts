/**
 * Live watching of the schedules directory with chokidar. Events are debounced: an
 * editor's atomic save (write a temporary file, rename it over the original) arrives as
 * unlink+add or several changes within milliseconds, and must produce one reconcile that
 * sees the finished file, never a delete followed by a create.
 *
 * If the directory itself disappears (or is replaced: a new inode), the watcher is
 * dropped and the directory polled until it is back (the source is stale meanwhile, so
 * nothing is deleted). chokidar does not report the removal of its root, so a cheap
 * once-a-second stat of the root notices it.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { Logger } from '../../src/log.js';
import { isScheduleFile } from './parse-file.js';

export interface WatchOptions {
  dir: string;
  /** Quiet period after the last event before reporting (ms). */
  debounceMs?: number;
  /** Report at the latest this long after the first event of a burst (ms). */
  maxWaitMs?: number;
  logger?: Logger;
  /** Follow symbolic links (chokidar's followSymlinks); default false. */
  followSymlinks?: boolean;
  onChange(origins: string[]): void;
}

/**
 * A burst of at least this many events ends with one full listing of the directory:
 * Linux queues at most fs.inotify.max_queued_events (16,384) events per watcher and drops
 * the rest without a word to chokidar, so 20,000 files written at once left ~700 of them
 * unseen until the next deep re-sync (15 minutes). The listing stats every file and
 * re-reads only new or changed ones.
 */
const STORM_EVENTS = 1000;
/** A burst ends after this long without an event. */
const STORM_QUIET_MS = 1000;

export class DirectoryWatcher {
  private burst = 0;
  /** Removals in the current burst (what leaves chokidar's per-file watchers behind). */
  private burstRemovals = 0;
  private burstEnd: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private pending = new Set<string>();
  private quiet: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private liveness: NodeJS.Timeout | null = null;
  private rootIno = -1;
  private closed = false;

  constructor(private readonly opts: WatchOptions) {}

  async start(): Promise<void> {
    if (this.closed) return;
    if (!existsSync(this.opts.dir)) {
      this.waitForDir();
      return;
    }
    const w = watch(this.opts.dir, {
      ignoreInitial: true,
      // Ignore hidden entries below the root (the root itself may be hidden, e.g. ~/.config/pyrq).
      ignored: (path: string) => path !== this.opts.dir && basename(path).startsWith('.'),
      atomic: true,
      persistent: true,
      // Links are not followed (a linked directory is not walked, a target outside is not
      // watched) unless files.followSymlinksOutside says links may lead anywhere.
      followSymlinks: this.opts.followSymlinks ?? false,
    });
    this.watcher = w;
    w.on('all', (event, path) => this.onEvent(event, path));
    w.on('error', (err) => this.opts.logger?.warn({ err }, 'file watcher error'));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    this.rootIno = statSync(this.opts.dir).ino;
    if (!this.liveness) {
      this.liveness = setInterval(() => this.checkRoot(), 1000);
      this.liveness.unref();
    }
  }

  /**
   * A fresh chokidar watcher after a storm: chokidar sets up a watcher per file after an
   * async stat, and a file removed meanwhile keeps its watcher (and an inotify watch)
   * for good: 1,645 of them after 20,000 files came and went. Closing the watcher frees
   * them; the full listing that follows covers events missed while it restarts.
   */
  private async restart(): Promise<void> {
    if (this.closed || this.poll) return;
    const old = this.watcher;
    this.watcher = null;
    await old?.close();
    if (this.closed) return;
    try {
      await this.start();
    } catch (err) {
      this.opts.logger?.warn({ err }, 'file watcher restart failed');
    }
    this.note('.');
  }

  private checkRoot(): void {
    if (this.closed || this.poll) return;
    let ino = -1;
    try {
      ino = statSync(this.opts.dir).ino;
    } catch {
      // gone
    }
    if (ino === this.rootIno) return;
    this.opts.logger?.warn(
      { dir: this.opts.dir },
      ino === -1
        ? 'schedules directory removed; waiting for it to return'
        : 'schedules directory replaced; watching the new one',
    );
    void this.watcher?.close();
    this.watcher = null;
    this.note('.');
    if (ino === -1) this.waitForDir();
    else void this.start();
  }

  private onEvent(event: string, path: string): void {
    if (event === 'unlink') this.burstRemovals++;
    this.countBurst();
    if (event === 'addDir' || event === 'unlinkDir') {
      this.note(relative(this.opts.dir, path).split(sep).join('/') || '.');
      return;
    }
    if (!isScheduleFile(basename(path))) return;
    this.note(relative(this.opts.dir, path).split(sep).join('/'));
  }

  /** Counts an event of the current burst; after a storm, asks for one full listing. */
  private countBurst(): void {
    this.burst++;
    if (this.burstEnd) clearTimeout(this.burstEnd);
    this.burstEnd = setTimeout(() => {
      this.burstEnd = null;
      const n = this.burst;
      const removals = this.burstRemovals;
      this.burst = this.burstRemovals = 0;
      if (n < STORM_EVENTS || this.closed) return;
      this.opts.logger?.info({ dir: this.opts.dir, events: n }, 'file storm over; listing the directory again');
      // A fresh watcher only after a storm of removals: re-watching a directory that
      // just gained 100,000 files would set up 100,000 watchers again, beside the old
      // ones (the daemon went past 3 GB so); a full listing covers the dropped events.
      if (removals >= STORM_EVENTS / 2) void this.restart();
      else this.note('.');
    }, STORM_QUIET_MS);
  }

  private note(origin: string): void {
    this.pending.add(origin);
    const debounce = this.opts.debounceMs ?? 100;
    if (this.quiet) clearTimeout(this.quiet);
    this.quiet = setTimeout(() => this.flush(), debounce);
    // Under steady churn (50 file operations a second) the quiet period never comes: the
    // deadline flushes what piled up, four times a second, one reconcile each (the loop
    // merges whatever arrives while one runs). 500 ms left a deleted schedule firing up
    // to 0.9 s after its file was gone (the target is 1 s).
    if (!this.deadline) this.deadline = setTimeout(() => this.flush(), this.opts.maxWaitMs ?? 250);
  }

  private flush(): void {
    if (this.quiet) clearTimeout(this.quiet);
    if (this.deadline) clearTimeout(this.deadline);
    this.quiet = this.deadline = null;
    if (this.pending.size === 0 || this.closed) return;
    const origins = [...this.pending].sort();
    this.pending.clear();
    this.opts.onChange(origins);
  }

  private waitForDir(): void {
    if (this.closed || this.poll) return;
    this.poll = setInterval(() => {
      if (!existsSync(this.opts.dir)) return;
      clearInterval(this.poll!);
      this.poll = null;
      this.opts.logger?.info({ dir: this.opts.dir }, 'schedules directory is back');
      void this.start().then(() => this.note('.'));
    }, 1000);
    this.poll.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.quiet, this.deadline, this.burstEnd]) if (t) clearTimeout(t);
    if (this.poll) clearInterval(this.poll);
    if (this.liveness) clearInterval(this.liveness);
    await this.watcher?.close();
  }
}
