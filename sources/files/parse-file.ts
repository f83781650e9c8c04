/**
 * Parsing one schedule file into raw schedule entries. Pure (bytes in, entries or an
 * error out), so every format rule is unit-testable without touching the disk.
 *
 * A file holds one schedule, a list of schedules, or a top-level `schedules` list (or
 * a table keyed by id). A top-level `$schema` key is allowed, for editors.
 */
import TOML from '@iarna/toml';
import YAML from 'yaml';
import { JsonSyntaxError, parseJson } from '../../src/canonical-json.js';
import { fieldName, quote } from '../../src/model/excerpt.js';
import { reservedKeyError } from './reserved-keys.js';
import { parseSimpleToml } from './simple-toml.js';
import { DECLINED, parseSimpleYaml } from './simple-yaml.js';
import { tomlIntegerRangeError } from './toml-int-range.js';

export const SCHEDULE_EXTENSIONS = ['.json', '.toml', '.yaml', '.yml'] as const;

/** One schedule as written, with its position in the file (`schedules[2]`, `[0]` or ''). */
export interface RawEntry {
  raw: unknown;
  locator: string;
}

export type ParseResult = { ok: true; entries: RawEntry[] } | { ok: false; message: string };

/** Is this a file the source reads? Hidden files and editor temporaries are not. */
export function isScheduleFile(name: string): boolean {
  if (
    name.startsWith('.') ||
    name.endsWith('~') ||
    name.startsWith('#') ||
    /\.(swp|swx|swo|tmp|bak|orig|part)$/i.test(name)
  )
    return false;
  const lower = name.toLowerCase();
  return SCHEDULE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

function formatOf(name: string): 'json' | 'toml' | 'yaml' {
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.toml')) return 'toml';
  return 'yaml';
}

/** Decodes bytes as strict UTF-8 (a stray Latin-1 byte is an error, not a mojibake schedule). */
export function decodeUtf8(bytes: Uint8Array): string | { message: string } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    return { message: `not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)})` };
  }
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (RFC 3629). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}

function parseText(text: string, format: 'json' | 'toml' | 'yaml'): unknown {
  switch (format) {
    case 'json':
      // Unique keys, as in YAML and TOML: JSON.parse would silently keep the last of two
      // "every" keys, so a copy-paste slip would change a schedule without a word.
      return parseJson(text, { uniqueKeys: true });
    case 'toml': {
      // Most schedule files are `[[schedules]]` tables of one-line pairs: read those
      // directly; anything else, errors included, is @iarna/toml's (simple-toml.ts).
      const simple = parseSimpleToml(text);
      if (simple !== DECLINED) return simple;
      // TOML integers are 64-bit; @iarna/toml silently wraps larger ones (anywhere:
      // inline tables, arrays, hex/octal/binary), so refuse them first (toml-int-range.ts).
      const tooBig = tomlIntegerRangeError(text);
      if (tooBig) throw new Error(tooBig);
      return TOML.parse(text);
    }
    case 'yaml': {
      // Most schedule files are plain key: value lines: read those directly (~10x less
      // CPU than the yaml package); anything else, errors included, is yaml's (simple-yaml.ts).
      const simple = parseSimpleYaml(text);
      if (simple !== DECLINED) return simple;
      // maxAliasCount defends against "billion laughs"; unique keys catch copy-paste slips.
      // The line counter gives errors a line and column (prettyErrors would add a code excerpt too).
      const lineCounter = new YAML.LineCounter();
      const docs = YAML.parseAllDocuments(text, {
        intAsBigInt: true,
        uniqueKeys: true,
        prettyErrors: false,
        lineCounter,
      });
      const list = Array.isArray(docs) ? docs : [docs];
      if (list.length > 1) throw new Error('more than one YAML document in the file; put the schedules in one list');
      const doc = list[0];
      if (!doc) return null;
      if (doc.errors.length > 0) {
        const err = doc.errors[0]!;
        const at = lineCounter.linePos(err.pos[0]);
        // yaml reports its own stack overflow on absurd nesting as a parse error.
        const why = err.message.split('\n')[0]!.replace(/^Maximum call stack size exceeded$/, 'nested too deeply');
        throw new Error(`line ${at.line}, column ${at.col}: ${why}`);
      }
      return fromYamlBigInts(doc.toJS({ maxAliasCount: 100 }));
    }
  }
}

// YAML is parsed with every integer as a bigint (so nothing beyond 2^53 is rounded);
// give back plain numbers wherever they are exact.
function fromYamlBigInts(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(fromYamlBigInts);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    // defineProperty: an assignment to "__proto__" would set (or, for a number, drop) the
    // prototype; kept as an own key, it is refused by name (reserved-keys.ts).
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, {
        value: fromYamlBigInts(x),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    return out;
  }
  return v;
}

function describeError(e: unknown, format: string): string {
  if (e instanceof JsonSyntaxError) return `invalid JSON: ${e.message}`;
  if (e instanceof RangeError && /call stack/i.test(e.message))
    return `invalid ${format.toUpperCase()}: nested too deeply`;
  const err = e as { message?: string; line?: number; col?: number };
  let msg = String(err.message ?? e)
    .split('\n')[0]!
    .trim();
  if (format === 'toml' && typeof err.line === 'number')
    msg = `line ${err.line + 1}, column ${(err.col ?? 0) + 1}: ${msg.replace(/ at row \d+, col \d+, pos \d+:?$/, '')}`;
  // @iarna/toml implements TOML 0.5, where an array holds one type; say how to get round it.
  if (format === 'toml' && /Inline lists must be a single type/.test(msg))
    msg += ' (TOML arrays must hold values of one type here; pass mixed values as kwargs, or use JSON or YAML)';
  return `invalid ${format.toUpperCase()}: ${msg}`;
}

/** Splits a parsed document into schedule entries. */
function entriesOf(doc: unknown): ParseResult {
  if (Array.isArray(doc)) return { ok: true, entries: doc.map((raw, i) => ({ raw, locator: `[${i}]` })) };
  if (doc === null || typeof doc !== 'object')
    return { ok: false, message: 'expected a schedule, a list of schedules, or a "schedules" list' };
  const obj = { ...(doc as Record<string, unknown>) };
  delete obj.$schema;
  if ('schedules' in obj) {
    const { schedules, ...rest } = obj;
    const extra = Object.keys(rest);
    if (extra.length > 0)
      return { ok: false, message: `unknown top-level field ${fieldName(extra[0]!)} beside "schedules"` };
    if (Array.isArray(schedules))
      return { ok: true, entries: schedules.map((raw, i) => ({ raw, locator: `schedules[${i}]` })) };
    if (schedules !== null && typeof schedules === 'object' && !(schedules instanceof Date)) {
      // A table keyed by id: [schedules.nightly-report] in TOML, a mapping in YAML.
      const entries: RawEntry[] = [];
      for (const [key, value] of Object.entries(schedules)) {
        // An id-like key as itself; anything else quoted and cut (excerpt.ts).
        const locator = /^[\w.-]{1,200}$/.test(key) ? `schedules.${key}` : `schedules[${quote(key)}]`;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          entries.push({ raw: value, locator });
          continue;
        }
        const v = value as Record<string, unknown>;
        if (v.id !== undefined && v.id !== key)
          return {
            ok: false,
            message: `${locator}: id ${quote(v.id)} differs from its key ${quote(key)}`,
          };
        entries.push({ raw: { id: key, ...v }, locator });
      }
      return { ok: true, entries };
    }
    return { ok: false, message: '"schedules" must be a list or a table of schedules' };
  }
  return { ok: true, entries: [{ raw: obj, locator: '' }] };
}

/** Parses one file's bytes. `name` decides the format (by extension). */
export function parseScheduleFile(name: string, bytes: Uint8Array): ParseResult {
  const text = decodeUtf8(bytes);
  if (typeof text !== 'string') return { ok: false, message: text.message };
  const format = formatOf(name);
  // An empty file is what an in-place save looks like between truncate and write. Treat
  // it as broken (its schedules are kept); deleting the file is how schedules are removed.
  if (text.trim() === '')
    return {
      ok: false,
      message:
        'file is empty (a save in progress?); its applied schedules are kept until it holds schedules or is deleted',
    };
  let doc: unknown;
  try {
    doc = parseText(text, format);
  } catch (e) {
    return { ok: false, message: describeError(e, format) };
  }
  // `__proto__`, `constructor`, `prototype`: refused at any depth (reserved-keys.ts).
  const reserved = reservedKeyError(doc);
  if (reserved) return { ok: false, message: reserved };
  return entriesOf(doc);
}
