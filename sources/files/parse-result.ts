/**
 * One schedule file's bytes to the schedules it defines, or its errors: parse, validate,
 * normalise, hash. Pure, so the file source can run it on its own thread or on a parse
 * worker's (see parse-pool.ts) with the same result.
 */
import { type NormalizeContext, normalizeSchedule } from '../../src/model/normalize.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { DesiredSchedule, SourceError } from '../../src/source.js';
import { parseScheduleFile } from './parse-file.js';

export type FileResult = { schedules: DesiredSchedule[]; errors: SourceError[] };

/** A file that contributes nothing, for `message`. */
export function failedFile(source: string, rel: string, message: string): FileResult {
  return { schedules: [], errors: [{ source, origin: rel, message }] };
}

/** Parses and validates one file's bytes. Any error makes the whole file contribute nothing (it is held). */
export function parseFileResult(source: string, rel: string, bytes: Uint8Array, ctx: NormalizeContext): FileResult {
  const parsed = parseScheduleFile(rel, bytes);
  if (!parsed.ok) return failedFile(source, rel, parsed.message);
  const schedules: DesiredSchedule[] = [];
  const errors: SourceError[] = [];
  const firstAt = new Map<string, string>();
  for (const { raw, locator } of parsed.entries) {
    const r = normalizeSchedule(raw, ctx);
    if (!r.ok) {
      for (const issue of r.issues) errors.push({ source, origin: rel, locator: locator || undefined, id: r.id, path: issue.path || undefined, message: issue.message });
      continue;
    }
    const id = r.schedule.id;
    const prev = firstAt.get(id);
    if (prev !== undefined) {
      errors.push({ source, origin: rel, locator: locator || undefined, id, message: `duplicate id: already defined at ${prev || 'the top of the file'}` });
      continue;
    }
    firstAt.set(id, locator);
    schedules.push({ spec: r.schedule, hash: specHash(r.schedule), origin: rel });
  }
  return errors.length > 0 ? { schedules: [], errors } : { schedules, errors };
}
