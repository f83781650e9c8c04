/**
 * One schedule file's bytes to the schedules it defines, or its errors: parse, validate,
 * normalise, hash. Pure, so the file source can run it on its own thread or on a parse
 * worker's (see parse-pool.ts) with the same result.
 */
import { createHash } from 'node:crypto';
import { canonicalStringify, parseJson } from '../../src/canonical-json.js';
import { type NormalizeContext, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHashOfText } from '../../src/model/spec-hash.js';
import { nextFireTimeAfter } from '../../src/schedule/jitter.js';
import { specTextMayBeOneShot } from '../../src/schedule/triggers/index.js';
import type { DesiredSchedule, SourceError } from '../../src/source.js';
import { parseScheduleFile } from './parse-file.js';

export type FileResult = { schedules: DesiredSchedule[]; errors: SourceError[] };

/**
 * A desired schedule kept as its canonical JSON text: what is hashed, what is written to
 * Redis, and what a parse thread sends back (a string crosses threads far cheaper than
 * an object graph). The spec object is parsed only when something reads it (a plan line,
 * a field-level diff, a one-shot's instant): a cold apply of 100,000 schedules parses
 * none, and the source's cache holds strings, not 100,000 object graphs.
 */
/**
 * The digest of a file's bytes that a parse result is kept under (the parse worker sends
 * it with each result; a deep re-sync keeps a result while its file's digest is the same).
 */
export function contentDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

export class TextSchedule implements DesiredSchedule {
  #spec?: Schedule;
  /** `nextFireTimeAfter(spec, #hintAfter)` (the stored next fire time), worked out on the parse thread (NaN: none worked out). */
  #hintAfter = NaN;
  #hintAt: number | null = null;
  /** Worked out once here, not by every reconcile's diff (100,000 text scans cost ~60 ms a run). */
  readonly mayBeOneShot: boolean;

  constructor(
    readonly id: string,
    readonly text: string,
    readonly hash: string,
    readonly origin: string,
  ) {
    this.mayBeOneShot = specTextMayBeOneShot(text);
  }

  get spec(): Schedule {
    return (this.#spec ??= parseJson(this.text) as Schedule);
  }

  /** Records `at = nextFireTimeAfter(spec, after)`. */
  hint(after: number, at: number | null): this {
    this.#hintAfter = after;
    this.#hintAt = at;
    return this;
  }

  /** The recorded `[after, at]`, if any. */
  hinted(): [after: number, at: number | null] | undefined {
    return Number.isNaN(this.#hintAfter) ? undefined : [this.#hintAfter, this.#hintAt];
  }

  /**
   * `nextFireTimeAfter(spec, now)` from the hint, when it still answers: the first occurrence
   * after the hint's time is also the first after `now` if it lies beyond `now` (or there
   * is none), an occurrence set being fixed. Else undefined (compute it).
   */
  nextFireHint(now: number): number | null | undefined {
    if (!(Math.floor(this.#hintAfter / 1000) <= Math.floor(now / 1000))) return undefined;
    const at = this.#hintAt;
    return at === null || at > Math.floor(now / 1000) * 1000 ? at : undefined;
  }
}

/** A file's result as it crosses from a parse thread: flat lists of strings. */
export interface PackedFileResult {
  ids: string[];
  texts: string[];
  hashes: string[];
  errors: SourceError[];
  /** With `hintAfter`: each schedule's next fire time after it (null: none). */
  hintAfter?: number;
  nextAt?: (number | null)[];
}

export function packFileResult(r: FileResult): PackedFileResult {
  const ids: string[] = [];
  const texts: string[] = [];
  const hashes: string[] = [];
  const nextAt: (number | null)[] = [];
  let hintAfter: number | undefined;
  for (const d of r.schedules) {
    ids.push(d.id ?? d.spec.id);
    texts.push(d.text ?? canonicalStringify(d.spec));
    hashes.push(d.hash);
    const h = d instanceof TextSchedule ? d.hinted() : undefined;
    if (h) {
      hintAfter = h[0];
      nextAt.push(h[1]);
    }
  }
  return hintAfter === undefined || nextAt.length !== ids.length
    ? { ids, texts, hashes, errors: r.errors }
    : { ids, texts, hashes, errors: r.errors, hintAfter, nextAt };
}

export function unpackFileResult(p: PackedFileResult, origin: string): FileResult {
  return {
    schedules: p.ids.map((id, i) => {
      const d = new TextSchedule(id, p.texts[i]!, p.hashes[i]!, origin);
      return p.hintAfter === undefined ? d : d.hint(p.hintAfter, p.nextAt![i]!);
    }),
    errors: p.errors,
  };
}

/** A file that contributes nothing, for `message`. */
export function failedFile(source: string, rel: string, message: string): FileResult {
  return { schedules: [], errors: [{ source, origin: rel, message }] };
}

/**
 * Parses and validates one file's bytes. Any error makes the whole file contribute nothing (it is held).
 * `hintAfter`: also work out each schedule's next fire time after it (the reconcile's
 * time): a parse thread does, so the main thread need not while it writes.
 */
export function parseFileResult(
  source: string,
  rel: string,
  bytes: Uint8Array,
  ctx: NormalizeContext,
  hintAfter?: number,
): FileResult {
  const parsed = parseScheduleFile(rel, bytes);
  if (!parsed.ok) return failedFile(source, rel, parsed.message);
  const schedules: DesiredSchedule[] = [];
  const errors: SourceError[] = [];
  const firstAt = new Map<string, string>();
  for (const { raw, locator } of parsed.entries) {
    const r = normalizeSchedule(raw, ctx);
    if (!r.ok) {
      for (const issue of r.issues)
        errors.push({
          source,
          origin: rel,
          locator: locator || undefined,
          id: r.id,
          path: issue.path || undefined,
          message: issue.message,
        });
      continue;
    }
    const id = r.schedule.id;
    const prev = firstAt.get(id);
    if (prev !== undefined) {
      errors.push({
        source,
        origin: rel,
        locator: locator || undefined,
        id,
        message: `duplicate id: already defined at ${prev || 'the top of the file'}`,
      });
      continue;
    }
    firstAt.set(id, locator);
    // specHash(spec) is the hash of this very text: the spec is written out once.
    const text = canonicalStringify(r.schedule);
    const d = new TextSchedule(id, text, specHashOfText(text), rel);
    schedules.push(hintAfter === undefined ? d : d.hint(hintAfter, nextFireTimeAfter(r.schedule, hintAfter)));
  }
  return errors.length > 0 ? { schedules: [], errors } : { schedules, errors };
}
