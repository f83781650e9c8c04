/**
 * Live watching of the schedules directory with `fs.watch` (inotify on Linux), one
 * watcher per directory, never one per file. Events are debounced: an editor's atomic
 * save (write a temporary file, rename it over the original) arrives as unlink+add or
 * several changes within milliseconds, and must produce one reconcile that sees the
 * finished file, never a delete followed by a create.
 *
 * chokidar did this until issue 22: it set up a watcher per file (20,000 inotify watches
 * and FSWatcher objects for 20,000 files, some of them never released when the file went
 * during set-up) and re-listed the whole directory, with an lstat per entry, on its events:
 * a 20,000-file storm cost the daemon ~5 s of its event loop in chokidar alone and left
 * it 300 MB larger. A directory watcher reports each entry's name; FileSource stats only
 * the names reported.
 *
 * If the directory itself disappears (or is replaced: a new inode), the watchers are
 * dropped and the directory polled until it is back (the source is stale meanwhile, so
 * nothing is deleted). A cheap once-a-second stat of the root notices it.
 */
import { type FSWatcher, existsSync, statSync, watch } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../src/log.js';
import { isScheduleFile } from './parse-file.js';

export interface WatchOptions {
  dir: string;
  /** Quiet period after the last event before reporting (ms). */
  debounceMs?: number;
  /** Report at the latest this long after the first event of a burst (ms). */
  maxWaitMs?: number;
  logger?: Logger;
  /**
   * Links may lead outside (files.followSymlinksOutside). Linked directories are never
   * walked (FileSource does not list them either); a linked file is reported by name.
   */
  followSymlinks?: boolean;
  onChange(origins: string[]): void;
}

/**
 * A burst of at least this many events ends with one full listing of the directory:
 * Linux queues at most fs.inotify.max_queued_events (16,384) events per inotify instance
 * and drops the rest without a word, so 20,000 files written at once left ~700 of them
 * unseen until the next deep re-sync (15 minutes). The listing stats every file and
 * re-reads only new or changed ones.
 */
const STORM_EVENTS = 1000;
/** A burst ends after this long without an event. */
const STORM_QUIET_MS = 1000;

export class DirectoryWatcher {
  private burst = 0;
  private lastEventAt = 0;
  private burstEnd: NodeJS.Timeout | null = null;
  /** One watcher per directory, by relative path ('' is the root). */
  private readonly watchers = new Map<string, FSWatcher>();
  private pending = new Set<string>();
  private lastNoteAt = 0;
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
    this.rootIno = statSync(this.opts.dir).ino;
    await this.watchTree('');
    if (!this.liveness) {
      this.liveness = setInterval(() => this.checkRoot(), 1000);
      this.liveness.unref();
    }
  }

  /** Watches the directory `rel` and every directory below it (hidden ones and links excepted). */
  private async watchTree(rel: string): Promise<void> {
    if (this.closed || this.watchers.has(rel)) return;
    const full = rel ? join(this.opts.dir, rel) : this.opts.dir;
    let w: FSWatcher;
    try {
      w = watch(full, { persistent: true }, (event, name) => this.onFsEvent(rel, event, name));
    } catch (err) {
      if (rel === '') this.opts.logger?.warn({ err }, 'file watcher error');
      return;
    }
    // A watched directory that goes away: its parent reports the name (below); the root's
    // liveness check notices the root.
    w.on('error', () => this.unwatch(rel));
    this.watchers.set(rel, w);
    let entries;
    try {
      entries = await readdir(full, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries)
      if (e.isDirectory() && !e.name.startsWith('.')) await this.watchTree(rel ? `${rel}/${e.name}` : e.name);
  }

  /** Stops watching `rel` and everything below it. */
  private unwatch(rel: string): void {
    for (const [r, w] of this.watchers) {
      if (r !== rel && !(rel === '' || r.startsWith(`${rel}/`))) continue;
      w.close();
      this.watchers.delete(r);
    }
  }

  private closeAll(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private onFsEvent(dirRel: string, event: string, name: string | Buffer | null): void {
    if (this.closed) return;
    this.countBurst();
    if (name === null) {
      this.note(dirRel || '.'); // the system did not say which entry: list again
      return;
    }
    const base = String(name);
    if (base.startsWith('.')) return; // hidden entries (editors' temporary files, .git)
    const rel = dirRel ? `${dirRel}/${base}` : base;
    if (isScheduleFile(base)) {
      this.note(rel);
      return;
    }
    // Not a schedule file: a directory that came or went is a directory event (everything
    // listed again); anything else (a README) is none of ours.
    if (event !== 'rename') return;
    if (this.watchers.has(rel)) {
      this.unwatch(rel);
      this.note(rel);
    }
    void lstat(join(this.opts.dir, rel)).then(
      (st) => {
        if (!st.isDirectory() || this.closed) return;
        void this.watchTree(rel);
        this.note(rel);
      },
      () => undefined,
    );
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
    this.closeAll();
    this.note('.');
    if (ino === -1) this.waitForDir();
    else void this.start();
  }

  /**
   * Counts an event of the current burst; after a storm, asks for one full listing. One
   * timer per burst, not one per event (a storm is tens of thousands of events).
   */
  private countBurst(): void {
    this.burst++;
    this.lastEventAt = Date.now();
    if (!this.burstEnd) this.burstEnd = setTimeout(() => this.endBurst(), STORM_QUIET_MS);
  }

  private endBurst(): void {
    const idle = Date.now() - this.lastEventAt;
    if (idle < STORM_QUIET_MS) {
      this.burstEnd = setTimeout(() => this.endBurst(), STORM_QUIET_MS - idle);
      return;
    }
    this.burstEnd = null;
    const n = this.burst;
    this.burst = 0;
    if (n < STORM_EVENTS || this.closed) return;
    this.opts.logger?.info({ dir: this.opts.dir, events: n }, 'file storm over; listing the directory again');
    this.note('.');
  }

  private note(origin: string): void {
    this.pending.add(origin);
    this.lastNoteAt = Date.now();
    if (!this.quiet) this.quiet = setTimeout(() => this.quietOver(), this.opts.debounceMs ?? 100);
    // Under steady churn (50 file operations a second) the quiet period never comes: the
    // deadline flushes what piled up, four times a second, one reconcile each (the loop
    // merges whatever arrives while one runs). 500 ms left a deleted schedule firing up
    // to 0.9 s after its file was gone (the target is 1 s).
    if (!this.deadline) this.deadline = setTimeout(() => this.flush(), this.opts.maxWaitMs ?? 250);
  }

  /** The debounce timer: flushes once nothing was noted for `debounceMs`, else waits the rest. */
  private quietOver(): void {
    const debounce = this.opts.debounceMs ?? 100;
    const idle = Date.now() - this.lastNoteAt;
    if (idle < debounce) {
      this.quiet = setTimeout(() => this.quietOver(), debounce - idle);
      return;
    }
    this.flush();
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
    this.closeAll();
  }

  /** Directories watched now (tests). */
  get watchedDirectories(): number {
    return this.watchers.size;
  }
}
