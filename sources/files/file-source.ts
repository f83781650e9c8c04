/**
 * The file source: a directory (recursive) of JSON, TOML and YAML schedule files.
 *
 * Safety rules, because a half-saved file must never wipe schedules:
 * - a file that cannot be read, parsed or validated contributes nothing, and its
 *   origin is *held*: whatever it applied before stays exactly as it is;
 * - an id defined in two files is an error naming both; the id is held;
 * - a missing or unreadable directory makes the whole source stale (no deletions).
 *
 * Parsed files are cached by (size, mtime, inode), so a reconcile after one edit
 * re-reads one file, not the whole tree. `fresh` (the periodic re-sync) trusts no stat:
 * it lists the directory again and reads every file's bytes, and parses again every file
 * whose bytes are not exactly (SHA-256) the bytes its cached result was parsed from; an
 * identical file keeps its result (parsing is a pure function of the bytes, the path and
 * the source's context, which is fixed for the source's life).
 */
import { opendir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { SETTINGS } from '../../src/config/settings.js';
import type { NormalizeContext } from '../../src/model/normalize.js';
import type { Logger } from '../../src/log.js';
import { type Source, type SourceChange, type SourceSnapshot, desiredId } from '../../src/source.js';
import { Claims } from './claims.js';
import { isScheduleFile } from './parse-file.js';
import { ParsePool } from './parse-pool.js';
import { runInFlight } from '../../src/in-flight.js';
import { collectIfGrown } from '../../src/gc.js';
import { contentDigest, type FileResult, failedFile, parseFileResult } from './parse-result.js';
import { DirectoryWatcher } from './watch-files.js';
import { type Slicer, slicer, sortStringsSliced } from '../../src/yield-slices.js';

/** Files larger than this are refused without being read (a schedule file is kilobytes). */
export const DEFAULT_MAX_FILE_BYTES: number = SETTINGS['files.maxFileBytes'].default;

export interface FileSourceOptions {
  dir: string;
  ctx: NormalizeContext;
  maxFileBytes?: number;
  /**
   * Read files that are symbolic links to somewhere outside `dir` (`files.followSymlinksOutside`).
   * Off by default: whoever can write the directory could otherwise make pyrq read (and
   * echo in its errors) any file pyrq's user can read.
   */
  followSymlinksOutside?: boolean;
  logger?: Logger;
  /** Parse threads for large reads (default: one per core, at most 4; 0 or 1: parse inline). */
  parseThreads?: number;
  /** Test hook: the parse worker to run instead of the built one. */
  parseWorkerFile?: string;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  result: FileResult;
  /** SHA-256 of the bytes `result` was parsed from (absent when the file could not be read). */
  digest?: string;
}

export const FILE_SOURCE = 'files';

/**
 * More reported files than this: the directory is listed instead of each reported file
 * stat'ed. A storm reports tens of thousands at once, and one listing costs a few readdir
 * calls; a listing of a directory of 100,000 files (the entries made into objects, sorted)
 * costs the event loop 100-500 ms, though, so the removal of a few thousand files from it
 * is a few thousand stats, a chunk at a time (with 512 as the limit, the removal of
 * 100,000 files fired ~25 occurrences 170-560 ms late; with 4,096, 8 up to 330 ms).
 */
const STAT_REPORTED_MAX = 4096;

/**
 * Reported files to read at least before parse threads are started for them: their
 * start-up is worth it for a storm, not for a few edits (churn reports ~12 per reconcile).
 */
const POOL_MIN_REPORTED = 200;

/** Directory entries read per call while listing. */
const LIST_BUFFER = 256;

/** Files stat'ed (and read, when changed) at a time. */
const READ_CONCURRENCY = 32;

export class FileSource implements Source {
  readonly name = FILE_SOURCE;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxBytes: number;
  /** The previous snapshot (for `changed`); undefined after a fresh or stale one. */
  private last?: SourceSnapshot;
  /** Files re-read (or gone) since the previous snapshot. */
  private readonly reread = new Set<string>();
  /** Per re-read file: the ids it had and has, whose desired state may have changed. */
  private readonly changedIds = new Map<string, string[]>();
  /**
   * Per file: the ids of its last version that could be read, i.e. what it applied. A
   * broken file keeps them (they are held), so when it is fixed or deleted the ids it
   * no longer has are in `changed`.
   */
  private readonly originIds = new Map<string, string[]>();
  /** Who claims which id, following the files as they change. */
  private readonly claims = new Claims();
  /** Per file re-read (or gone) in the snapshot being taken: its result before. */
  private readonly previous = new Map<string, FileResult | undefined>();
  /**
   * While watching: the files the watcher reported since the last snapshot began, so the
   * next one lists and stats only those (churn: 2,000 stats took 150-300 ms a reconcile
   * on a busy machine). null: unknown (not watching yet, a directory event, a fresh
   * read): list and stat everything, and plan against the whole registry (see `snapshot`).
   */
  private dirty: Set<string> | null = null;
  private watching = false;
  /** The file list of the last snapshot (sorted), kept up to date from `dirty`. */
  private files?: string[];

  /** The directory, absolute. */
  get location(): string {
    return resolve(this.opts.dir);
  }

  constructor(readonly opts: FileSourceOptions) {
    this.maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  async snapshot(opts: { fresh?: boolean; now?: number } = {}): Promise<SourceSnapshot> {
    this.realRoot = undefined; // the directory may have been replaced since
    // A fresh read keeps the results (with the digests of their bytes) aside, to compare.
    let prior: Map<string, CacheEntry> | undefined;
    if (opts.fresh) {
      prior = new Map(this.cache);
      this.cache.clear();
      this.claims.clear();
      this.last = undefined;
    }
    const snap: SourceSnapshot = {
      source: this.name,
      schedules: [],
      errors: [],
      stale: false,
      heldOrigins: [],
      heldIds: [],
    };
    const dirty = opts.fresh || !this.last ? null : this.dirty;
    // While watching, a full listing is the watcher's request (or the first snapshot).
    const relist = this.watching && dirty === null && !opts.fresh;
    this.dirty = this.watching ? new Set() : null;
    // Every walk of the whole file list (100,000 files in a storm) runs in time slices,
    // yielding to the event loop between them: done in one go, they held the daemon's
    // fires for 100s of ms (issue 22: a per-second schedule 0.2-0.9 s late).
    const s = slicer();
    let files: string[];
    try {
      files =
        dirty && this.files && dirty.size <= STAT_REPORTED_MAX
          ? await this.updateFiles(this.files, dirty, s)
          : await this.listFiles();
      this.files = files;
    } catch (e) {
      this.last = undefined;
      this.files = undefined;
      snap.stale = true;
      snap.errors.push({
        source: this.name,
        origin: this.opts.dir,
        // The common cases in words; the system's message for anything else.
        message: `cannot read the schedules directory: ${
          (e as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'no such directory'
            : (e as NodeJS.ErrnoException).code === 'EACCES'
              ? 'permission denied'
              : (e as Error).message
        }`,
      });
      return snap;
    }
    this.reread.clear();
    this.previous.clear();
    const changed = new Set<string>();
    const seen = new Set<string>();
    for (const f of files) {
      seen.add(f);
      await s.tick();
    }
    for (const [path, entry] of this.cache) {
      await s.tick();
      if (seen.has(path)) continue;
      this.cache.delete(path);
      this.previous.set(path, entry.result);
    }
    for (const [path, ids] of this.originIds) {
      await s.tick();
      if (seen.has(path)) continue;
      for (const id of ids) changed.add(id);
      this.originIds.delete(path);
      this.reread.add(path);
    }
    const results = await this.readAll(files, dirty ?? undefined, prior, opts.now, s);
    const last = this.last;
    if (last && relist) {
      // The watcher asked for everything (a storm is over, a directory came or went): the
      // claims are made again from every file's result and the snapshot says nothing of
      // what changed, so the reconcile compares all of it with the whole registry. The
      // file source is level-triggered: whatever events or runs went astray during the
      // burst, the registry converges on what the directory holds now, not 15 minutes
      // later at the deep re-sync (a 2,000-file storm left 5 removed files' schedules).
      this.previous.clear();
      this.changedIds.clear();
      this.claims.clear();
      for (const r of results) {
        this.claims.add(r.schedules);
        await s.tick();
      }
      this.last = await this.assemble(files, results, this.claims, s);
      return this.last;
    }
    // Nothing re-read, nothing removed: the previous snapshot still holds (a file event
    // that changed nothing, or a file outside the directory's schedules).
    if (last && this.reread.size === 0) return { ...last, changed: this.heldOriginIds(last) };
    // The claims follow the files that changed, in file order (so that the first claim
    // of a duplicate id is the first file's, as in a full read).
    for (const [path, before] of this.previous) {
      if (!seen.has(path) && before) this.claims.remove(path, before.schedules);
      await s.tick();
    }
    for (let i = 0; i < files.length; i++) {
      await s.tick();
      const rel = files[i]!;
      if (!this.previous.has(rel)) continue;
      const before = this.previous.get(rel);
      if (before) this.claims.remove(rel, before.schedules);
      this.claims.add(results[i]!.schedules);
    }
    this.previous.clear();
    const out = await this.assemble(files, results, this.claims, s);
    this.last = out;
    // A first read says nothing of what changed (the reconcile compares everything): the
    // set of every id it read cost a cold apply of 100,000 schedules ~40 ms and its garbage.
    if (!last) {
      this.changedIds.clear();
      return out;
    }
    for (const origin of this.reread) {
      for (const id of this.changedIds.get(origin) ?? []) changed.add(id);
      await s.tick();
    }
    this.changedIds.clear();
    // What broken files hold too, so that a plan of just these ids counts them as held.
    for (const id of this.heldOriginIds(out)) changed.add(id);
    return { ...out, changed: [...changed] };
  }

  private heldOriginIds(snap: SourceSnapshot): string[] {
    return snap.heldOrigins.flatMap((origin) => this.originIds.get(origin) ?? []);
  }

  /**
   * Reads (or takes from the cache) every file, a few at a time, in order. When many
   * files need parsing (a cold start, a deep re-sync), parse workers do it (parse-pool.ts).
   */
  private async readAll(
    files: readonly string[],
    only?: ReadonlySet<string>,
    prior?: ReadonlyMap<string, CacheEntry>,
    now?: number,
    s: Slicer = slicer(),
  ): Promise<FileResult[]> {
    const results: FileResult[] = new Array(files.length);
    if (prior && prior.size > 0) {
      // A fresh read over earlier results: read every file, keep the result of one whose
      // bytes are those it was parsed from, parse the others (below, as in a full read).
      await runInFlight(files.length, READ_CONCURRENCY, async (i) => {
        const r = await this.readUnchanged(files[i]!, prior.get(files[i]!));
        if (r) results[i] = r;
      });
      const rest: number[] = [];
      for (let i = 0; i < files.length; i++) if (results[i] === undefined) rest.push(i);
      if (rest.length === 0) return results;
      const parsed = await this.readAll(
        rest.map((i) => files[i]!),
        undefined,
        undefined,
        now,
        s,
      );
      rest.forEach((i, k) => (results[i] = parsed[k]!));
      return results;
    }
    if (only) {
      // Only these changed (the watcher says): the others' cached results stand.
      const rest: number[] = [];
      for (let i = 0; i < files.length; i++) {
        const rel = files[i]!;
        const cached = only.has(rel) ? undefined : this.cache.get(rel);
        if (cached) results[i] = cached.result;
        else rest.push(i);
        await s.tick();
      }
      // A storm of new files (thousands reported at once) is parsed on the parse threads,
      // off the event loop that fires; a few edited files stay on this thread.
      const pool =
        rest.length >= POOL_MIN_REPORTED
          ? ParsePool.forFiles(this.name, this.opts.ctx, rest.length, {
              threads: this.opts.parseThreads,
              workerFile: this.opts.parseWorkerFile,
              now,
            })
          : undefined;
      const concurrency = pool ? READ_CONCURRENCY * 2 : READ_CONCURRENCY;
      try {
        await runInFlight(rest.length, concurrency, async (k) => {
          const j = rest[k]!;
          results[j] = await this.readOne(files[j]!, pool);
        });
      } finally {
        await pool?.close();
      }
      return results;
    }
    const uncached = files.reduce((n, rel) => n + (this.cache.has(rel) ? 0 : 1), 0);
    const pool = ParsePool.forFiles(this.name, this.opts.ctx, uncached, {
      threads: this.opts.parseThreads,
      workerFile: this.opts.parseWorkerFile,
      now,
    });
    const concurrency = pool ? READ_CONCURRENCY * 2 : READ_CONCURRENCY;
    try {
      await runInFlight(files.length, concurrency, async (i) => {
        results[i] = await this.readOne(files[i]!, pool);
        if (i % concurrency === 0) collectIfGrown(); // the daemon's first reconcile only (gc.ts)
      });
    } finally {
      await pool?.close();
    }
    return results;
  }

  /**
   * The snapshot of `files` (with their results, in order) and who claims which id.
   * `byId` is the claims' own map: valid until the next snapshot.
   */
  private async assemble(
    files: readonly string[],
    results: readonly FileResult[],
    claims: Claims,
    s: Slicer = slicer(),
  ): Promise<SourceSnapshot> {
    const snap: SourceSnapshot = {
      source: this.name,
      schedules: [],
      errors: [],
      stale: false,
      heldOrigins: [],
      heldIds: [],
    };
    for (let i = 0; i < files.length; i++) {
      await s.tick();
      const r = results[i]!;
      if (r.errors.length === 0) continue;
      snap.errors.push(...r.errors);
      snap.heldOrigins.push(files[i]!);
    }
    for (const [id, all] of claims.multi) {
      snap.heldIds.push(id);
      const list = [...new Set(all.map((d) => d.origin))].sort();
      snap.errors.push({
        source: this.name,
        origin: list[0],
        id,
        message: `id is defined in more than one file: ${list.join(', ')}; it keeps its applied state until only one file defines it`,
      });
    }
    for (const d of claims.single.values()) {
      snap.schedules.push(d);
      // Awaited only when it yields: an await per schedule is a microtask each (100,000 here).
      const y = s.tick();
      if (y) await y;
    }
    snap.byId = claims.single;
    return snap;
  }

  /** A snapshot of just these files (relative paths): `pyrq validate FILE`. */
  async snapshotOf(files: readonly string[]): Promise<SourceSnapshot> {
    const results = await this.readAll(files);
    const claims = new Claims();
    for (const r of results) claims.add(r.schedules);
    return await this.assemble(files, results, claims);
  }

  /** How many schedule files the directory holds now. */
  async fileCount(): Promise<number> {
    return (await this.listFiles()).length;
  }

  private watcher?: DirectoryWatcher;

  /** Watches the directory; `onChange` gets the changed files (debounced, atomic-save safe). */
  async watch(onChange: (change: SourceChange) => void): Promise<void> {
    this.watcher = new DirectoryWatcher({
      dir: this.opts.dir,
      logger: this.opts.logger,
      followSymlinks: this.opts.followSymlinksOutside,
      onChange: (origins) => {
        this.noteDirty(origins);
        onChange({ source: this.name, origins });
      },
    });
    await this.watcher.start();
    // From now on every change is reported; the next snapshot still reads everything
    // (`dirty` is null), and the ones after it only what was reported.
    this.watching = true;
  }

  /** The watcher's report: schedule files to re-read, or (a directory event) everything. */
  private noteDirty(origins: readonly string[]): void {
    if (this.dirty === null) return;
    for (const o of origins) {
      if (!isScheduleFile(basename(o))) {
        this.dirty = null;
        return;
      }
      this.dirty.add(o);
    }
  }

  /** The last file list with the reported files added (when they exist) or removed (when gone). */
  private async updateFiles(files: readonly string[], dirty: ReadonlySet<string>, s: Slicer): Promise<string[]> {
    const st = await stat(this.opts.dir);
    if (!st.isDirectory()) throw new Error(`${this.opts.dir} is not a directory`);
    const known = new Set<string>();
    for (const f of files) {
      known.add(f);
      await s.tick();
    }
    const gone = new Set<string>();
    const added: string[] = [];
    // A chunk at a time: stats started all at once (20,000) held the loop ~480 ms.
    const reported = [...dirty];
    for (let i = 0; i < reported.length; i += READ_CONCURRENCY * 2) {
      const chunk = reported.slice(i, i + READ_CONCURRENCY * 2);
      const exists = await Promise.all(
        chunk.map((rel) =>
          stat(join(this.opts.dir, rel)).then(
            () => true,
            () => false,
          ),
        ),
      );
      chunk.forEach((rel, j) => {
        if (exists[j] && !known.has(rel)) added.push(rel);
        else if (!exists[j] && known.has(rel)) gone.add(rel);
      });
    }
    let kept: string[] = files as string[];
    if (gone.size > 0) {
      kept = [];
      for (const f of files) {
        if (!gone.has(f)) kept.push(f);
        await s.tick();
      }
    }
    if (added.length === 0) return kept === files ? files.slice() : kept;
    // Merged in order, not sorted again: a sort of 100,000 names per reconcile of a storm.
    added.sort();
    const out: string[] = new Array(kept.length + added.length);
    let a = 0;
    let b = 0;
    for (let k = 0; k < out.length; k++) {
      out[k] = b >= added.length || (a < kept.length && kept[a]! < added[b]!) ? kept[a++]! : added[b++]!;
      await s.tick();
    }
    return out;
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.cache.clear();
  }

  /** Relative paths (with `/`) of every schedule file under the directory, sorted. */
  private async listFiles(): Promise<string[]> {
    const root = this.opts.dir;
    const out: string[] = [];
    // `prefix`: the relative path of `dir` with a trailing `/` ('' at the root), built as
    // it goes (path.relative per entry was most of a 20,000-file listing in a profile).
    // Read a few hundred entries at a time (opendir), not all at once: readdir of a
    // directory of 100,000 files made its 100,000 entries in one go on the event loop.
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const d = await opendir(dir, { bufferSize: LIST_BUFFER });
      const subdirs: string[] = [];
      for await (const e of d) {
        if (e.name.startsWith('.')) continue; // hidden files and directories (.git, .#lock files)
        if (e.isDirectory()) subdirs.push(e.name);
        else if ((e.isFile() || e.isSymbolicLink()) && isScheduleFile(e.name)) out.push(prefix + e.name);
      }
      for (const name of subdirs) await walk(join(dir, name), `${prefix}${name}/`);
    };
    const st = await stat(root);
    if (!st.isDirectory()) throw new Error(`${root} is not a directory`);
    await walk(root, '');
    return await sortStringsSliced(out);
  }

  /** The real path of the directory, for `inside` (computed once a snapshot). */
  private realRoot?: Promise<string>;

  /**
   * The path to read `rel` from: its real path, when that is inside the directory (or
   * `followSymlinksOutside` allows anywhere); undefined when a link leads outside. A path
   * that cannot be resolved is returned as it is, for stat to report why.
   */
  private async inside(rel: string): Promise<string | undefined> {
    const full = join(this.opts.dir, rel);
    if (this.opts.followSymlinksOutside) return full;
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      return full;
    }
    this.realRoot ??= realpath(this.opts.dir).catch(() => resolve(this.opts.dir));
    const root = await this.realRoot;
    return real.startsWith(root.endsWith(sep) ? root : root + sep) ? real : undefined;
  }

  private async readOne(rel: string, pool?: ParsePool): Promise<FileResult> {
    const fail = (message: string): FileResult => failedFile(this.name, rel, message);
    const unreadable = (message: string): FileResult => {
      this.remember(rel);
      this.cache.delete(rel);
      return this.noteRead(rel, fail(message));
    };
    // Read through the checked real path: a link (or a linked directory on the way) that
    // leads out of the directory is refused before anything of its target is read.
    const full = await this.inside(rel);
    if (full === undefined)
      return unreadable(
        'a symbolic link to a file outside the schedules directory; refused unread (files.followSymlinksOutside allows it)',
      );
    let st;
    try {
      st = await stat(full);
    } catch (e) {
      return unreadable(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!st.isFile()) return unreadable('not a regular file');
    const cached = this.cache.get(rel);
    if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs && cached.ino === st.ino)
      return cached.result;
    let result: FileResult;
    let digest: string | undefined;
    if (st.size > this.maxBytes) {
      result = fail(
        `file is ${st.size} bytes, over the limit of ${this.maxBytes} (files.maxFileBytes); refused without reading it`,
      );
    } else {
      try {
        // A failed worker is pyrq's problem, not the file's: parse it here instead.
        const inline = async (): Promise<FileResult> => {
          const bytes = await readFile(full);
          digest = contentDigest(bytes);
          return this.parseSoon(rel, bytes);
        };
        const parsed = pool ? await pool.parse(rel, full).catch(() => undefined) : undefined;
        if (parsed) ({ result, digest } = parsed);
        else result = await inline();
      } catch (e) {
        result = fail(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    this.remember(rel);
    this.cache.set(rel, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, result, digest });
    return this.noteRead(rel, result);
  }

  /**
   * A fresh read of `rel` when its bytes are still exactly those `prior` was parsed from:
   * its result, re-cached under the file's current stat. Undefined otherwise (changed,
   * gone, unreadable, too large, or never read whole): the caller reads it in full.
   */
  private async readUnchanged(rel: string, prior: CacheEntry | undefined): Promise<FileResult | undefined> {
    if (prior?.digest === undefined) return undefined;
    const full = await this.inside(rel);
    if (full === undefined) return undefined; // readOne refuses it
    let bytes: Buffer;
    let st;
    try {
      st = await stat(full);
      if (!st.isFile() || st.size > this.maxBytes) return undefined;
      bytes = await readFile(full);
    } catch {
      return undefined;
    }
    const digest = contentDigest(bytes);
    if (digest !== prior.digest) return undefined;
    this.remember(rel);
    this.cache.set(rel, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, result: prior.result, digest });
    return this.noteRead(rel, prior.result);
  }

  /** Keeps the result `rel` had before it is replaced (its claims are withdrawn). */
  private remember(rel: string): void {
    if (!this.previous.has(rel)) this.previous.set(rel, this.cache.get(rel)?.result);
  }

  /** Records that `rel` was (re-)read, for the next snapshot's `changed`. */
  private noteRead(rel: string, result: FileResult): FileResult {
    this.reread.add(rel);
    const before = this.originIds.get(rel) ?? [];
    const now = result.errors.length > 0 ? before : result.schedules.map(desiredId);
    this.originIds.set(rel, now);
    this.changedIds.set(rel, [...before, ...now]);
    return result;
  }

  /**
   * Parses on this thread after letting timers run: the reads of a chunk complete together
   * and their callbacks run back to back, so without the yield a re-read of 20 files of
   * 100 YAML schedules held the event loop (and the dispatcher's fires) for 200-400 ms.
   */
  private async parseSoon(rel: string, bytes: Uint8Array): Promise<FileResult> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 0));
    return this.parse(rel, bytes);
  }

  /** Parses and validates one file's bytes (pure apart from `this.opts.ctx`). */
  parse(rel: string, bytes: Uint8Array): FileResult {
    return parseFileResult(this.name, rel, bytes, this.opts.ctx);
  }
}
