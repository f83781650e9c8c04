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
 * re-reads one file, not the whole tree. `fresh` (the periodic re-sync) drops the cache.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type NormalizeContext, normalizeSchedule } from '../../src/model/normalize.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { Logger } from '../../src/log.js';
import type { DesiredSchedule, Source, SourceChange, SourceError, SourceSnapshot } from '../../src/source.js';
import { isScheduleFile, parseScheduleFile } from './parse-file.js';
import { DirectoryWatcher } from './watch-files.js';

/** Files larger than this are refused without being read (a schedule file is kilobytes). */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024;

export interface FileSourceOptions {
  dir: string;
  ctx: NormalizeContext;
  maxFileBytes?: number;
  logger?: Logger;
}

type FileResult = { schedules: DesiredSchedule[]; errors: SourceError[] };

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  result: FileResult;
}

export const FILE_SOURCE = 'files';

export class FileSource implements Source {
  readonly name = FILE_SOURCE;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxBytes: number;

  constructor(readonly opts: FileSourceOptions) {
    this.maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  async snapshot(opts: { fresh?: boolean } = {}): Promise<SourceSnapshot> {
    if (opts.fresh) this.cache.clear();
    const snap: SourceSnapshot = { source: this.name, schedules: [], errors: [], stale: false, heldOrigins: [], heldIds: [] };
    let files: string[];
    try {
      files = await this.listFiles();
    } catch (e) {
      snap.stale = true;
      snap.errors.push({ source: this.name, origin: this.opts.dir, message: `cannot read the schedules directory: ${(e as Error).message}` });
      return snap;
    }
    const seen = new Set(files);
    for (const path of this.cache.keys()) if (!seen.has(path)) this.cache.delete(path);
    return this.collect(files);
  }

  private async collect(files: readonly string[]): Promise<SourceSnapshot> {
    const snap: SourceSnapshot = { source: this.name, schedules: [], errors: [], stale: false, heldOrigins: [], heldIds: [] };
    const byId = new Map<string, DesiredSchedule>();
    const dupes = new Map<string, Set<string>>();
    for (const rel of files) {
      const r = await this.readOne(rel);
      if (r.errors.length > 0) {
        snap.errors.push(...r.errors);
        snap.heldOrigins.push(rel);
        continue;
      }
      for (const d of r.schedules) {
        const prev = byId.get(d.spec.id);
        if (prev) {
          const where = dupes.get(d.spec.id) ?? new Set([prev.origin]);
          where.add(d.origin);
          dupes.set(d.spec.id, where);
        } else {
          byId.set(d.spec.id, d);
        }
      }
    }
    for (const [id, where] of dupes) {
      byId.delete(id);
      snap.heldIds.push(id);
      const list = [...where];
      snap.errors.push({ source: this.name, origin: list[0], id, message: `id is defined in more than one file: ${list.join(', ')}; it keeps its applied state until only one file defines it` });
    }
    snap.schedules = [...byId.values()];
    return snap;
  }

  /** A snapshot of just these files (relative paths): `pyrq validate FILE`. */
  async snapshotOf(files: readonly string[]): Promise<SourceSnapshot> {
    return this.collect(files);
  }

  /** How many schedule files the directory holds now. */
  async fileCount(): Promise<number> {
    return (await this.listFiles()).length;
  }

  private watcher?: DirectoryWatcher;

  /** Watches the directory; `onChange` gets the changed files (debounced, atomic-save safe). */
  async watch(onChange: (change: SourceChange) => void): Promise<void> {
    this.watcher = new DirectoryWatcher({ dir: this.opts.dir, logger: this.opts.logger, onChange: (origins) => onChange({ source: this.name, origins }) });
    await this.watcher.start();
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.cache.clear();
  }

  /** Relative paths (with `/`) of every schedule file under the directory, sorted. */
  private async listFiles(): Promise<string[]> {
    const root = this.opts.dir;
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true });
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // hidden files and directories (.git, .#lock files)
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if ((e.isFile() || e.isSymbolicLink()) && isScheduleFile(e.name)) out.push(relative(root, full).split(sep).join('/'));
      }
    };
    const st = await stat(root);
    if (!st.isDirectory()) throw new Error(`${root} is not a directory`);
    await walk(root);
    return out.sort();
  }

  private async readOne(rel: string): Promise<FileResult> {
    const full = join(this.opts.dir, rel);
    const fail = (message: string): FileResult => ({ schedules: [], errors: [{ source: this.name, origin: rel, message }] });
    let st;
    try {
      st = await stat(full);
    } catch (e) {
      return fail(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!st.isFile()) return fail('not a regular file');
    const cached = this.cache.get(rel);
    if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs && cached.ino === st.ino) return cached.result;
    let result: FileResult;
    if (st.size > this.maxBytes) {
      result = fail(`file is ${st.size} bytes, over the limit of ${this.maxBytes} (files.maxFileBytes); refused without reading it`);
    } else {
      try {
        const bytes = await readFile(full);
        result = this.parse(rel, bytes);
      } catch (e) {
        result = fail(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    this.cache.set(rel, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, result });
    return result;
  }

  /** Parses and validates one file's bytes (pure apart from `this.opts.ctx`). */
  parse(rel: string, bytes: Uint8Array): FileResult {
    const parsed = parseScheduleFile(rel, bytes);
    if (!parsed.ok) return { schedules: [], errors: [{ source: this.name, origin: rel, message: parsed.message }] };
    const schedules: DesiredSchedule[] = [];
    const errors: SourceError[] = [];
    const firstAt = new Map<string, string>();
    for (const { raw, locator } of parsed.entries) {
      const r = normalizeSchedule(raw, this.opts.ctx);
      if (!r.ok) {
        for (const issue of r.issues) errors.push({ source: this.name, origin: rel, locator: locator || undefined, id: r.id, path: issue.path || undefined, message: issue.message });
        continue;
      }
      const id = r.schedule.id;
      const prev = firstAt.get(id);
      if (prev !== undefined) {
        errors.push({ source: this.name, origin: rel, locator: locator || undefined, id, message: `duplicate id: already defined at ${prev || 'the top of the file'}` });
        continue;
      }
      firstAt.set(id, locator);
      schedules.push({ spec: r.schedule, hash: specHash(r.schedule), origin: rel });
    }
    return errors.length > 0 ? { schedules: [], errors } : { schedules, errors };
  }
}
