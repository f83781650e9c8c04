/**
 * The daemon's state file: its copy of what exists only in Redis and no source can give
 * back, pushed schedules (the socket source's store) and pause overrides. Written
 * atomically (a temporary file, fsync, rename, fsync of the directory), so a crash leaves
 * the old file or the new one, never half of one. One file per Redis and prefix, so
 * daemons of several Redis servers can share a state directory.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_FORMAT = 1;

/** What the file holds: the two hashes as Redis holds them (field -> value), and when they were saved. */
export interface SavedState {
  format: typeof STATE_FORMAT;
  /** Epoch ms of the save. */
  savedAt: number;
  /** Which Redis and prefix (for people reading the file; the name already tells them apart). */
  redis: string;
  prefix: string;
  socket: Record<string, string>;
  paused: Record<string, string>;
}

/** The file of one Redis (as the logs name it, without credentials) and prefix in `dir`. */
export function stateFilePath(dir: string, redis: string, prefix: string): string {
  const id = createHash('sha256').update(`${redis}\0${prefix}`).digest('hex').slice(0, 12);
  return join(dir, `state-${id}.json`);
}

/** A file's content as saved state, or the reason it is not. Pure. */
export function parseSavedState(text: string): SavedState | string {
  let v: Partial<SavedState>;
  try {
    v = JSON.parse(text) as Partial<SavedState>;
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (v.format !== STATE_FORMAT) return `unknown format ${JSON.stringify(v.format)} (this pyrq writes ${STATE_FORMAT})`;
  const isMap = (m: unknown) =>
    typeof m === 'object' && m !== null && Object.values(m).every((x) => typeof x === 'string');
  if (typeof v.savedAt !== 'number' || !isMap(v.socket) || !isMap(v.paused))
    return 'fields missing or of the wrong type';
  return v as SavedState;
}

/** The saved state; undefined when there is no file yet; a string when it cannot be read. */
export function readStateFile(file: string): SavedState | string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return (e as Error).message;
  }
  return parseSavedState(text);
}

/** Writes `state` atomically, readable by its owner only (a pushed schedule's arguments may be private). */
export function writeStateFile(file: string, state: SavedState): void {
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // The rename itself is durable once the directory is synced.
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
