/**
 * A fast path for the YAML that schedule files are made of: block mappings and sequences
 * of `key: value` lines whose values are plain words and numbers, quoted strings, or
 * one-line JSON-style flow collections. The `yaml` package spends most of its time
 * building a concrete syntax tree and a document model (~90 µs a schedule here, 3/4 of
 * a cold apply's parse CPU); this reads the same subset straight into values, ~10x less.
 *
 * It is deliberately narrow: anything outside the subset (anchors, tags, comments after
 * a value, multi-line scalars, tabs, CR, document markers, plain scalars that would
 * resolve to anything but a string or a small decimal integer, duplicate keys, errors of
 * any kind) returns DECLINED, and the file goes through `yaml` as before, so every value
 * and every error message is the package's. A differential test holds the two to the
 * same values (test/unit/simple-yaml.test.ts).
 */
import { parseJson } from '../../src/canonical-json.js';

export const DECLINED: unique symbol = Symbol('declined');

class Decline extends Error {}
/** Leaves the fast path (simple-toml.ts's too): the caller returns DECLINED and the package reads the file. */
export const decline = (): never => {
  throw new Decline();
};

interface Line {
  indent: number;
  /** The line without its indentation (never empty, never a comment). */
  text: string;
}

/** Plain keys this path reads (anything else, quoted keys included, declines). */
const KEY = /^[A-Za-z_$][A-Za-z0-9_$.-]{0,99}$/;
/**
 * A plain scalar that YAML 1.2's core schema resolves to a string: starts with a letter
 * or digit, no indicator that could start a comment, a mapping, a flow collection, an
 * alias or a tag; the numeric and keyword forms are told apart below.
 */
const PLAIN = /^[A-Za-z0-9_/(][A-Za-z0-9_./()@+*?,=~^$% -]*$/;
/** Decimal integers that are exact as numbers, as `yaml` (bigint, then Number) gives them. */
const SMALL_INT = /^-?(0|[1-9][0-9]{0,14})$/;
/**
 * Anything else YAML's core schema (yaml 2.x: schema/core, common/null) reads as a
 * number, a null or a boolean: declined, so those are always the package's.
 */
const NOT_A_STRING = [
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
];

/**
 * Characters YAML does not allow unescaped (c-printable: `yaml` refuses them even inside
 * single quotes), and the whitespace JavaScript trims but YAML keeps (NEL, NBSP, U+2028):
 * a text holding one is the package's to read or refuse.
 */
const NOT_SIMPLE_CHARS =
  // eslint-disable-next-line no-control-regex
  /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ud800-\udfff\ufeff\ufffe\uffff]/;

function scalar(v: string): unknown {
  const c = v[0];
  if (c === '"' || c === '{' || c === '[') {
    // yaml caps implicit keys at 1024 characters, and reads an integer -0 as 0.
    if (v.length > 1000 || /(?<![\w.])-0(?![\d.eE])/.test(v)) decline();
    // One line of strict JSON means the same in YAML's flow and double-quoted styles
    // (JSON's escapes are a subset of YAML's); anything else (YAML-only escapes, a
    // comment after it, a duplicate key) makes parseJson throw, and the file declines.
    try {
      return parseJson(v, { uniqueKeys: true });
    } catch {
      return decline();
    }
  }
  if (c === "'") {
    if (!/^'([^']|'')*'$/.test(v)) decline();
    return v.slice(1, -1).replace(/''/g, "'");
  }
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'null') return null;
  if (SMALL_INT.test(v)) {
    const n = Number(v);
    return Object.is(n, -0) ? decline() : n;
  }
  if (!PLAIN.test(v) || / #/.test(v) || NOT_A_STRING.some((re) => re.test(v))) decline();
  return v;
}

class Reader {
  i = 0;
  constructor(readonly lines: readonly Line[]) {}

  /** The block node whose lines start at the current line, at exactly `indent`. */
  node(indent: number): unknown {
    const line = this.lines[this.i];
    if (!line || line.indent !== indent) return decline();
    return line.text === '-' || line.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent, undefined);
  }

  sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (
      let line = this.lines[this.i];
      line && line.indent === indent && (line.text === '-' || line.text.startsWith('- '));
      line = this.lines[this.i]
    ) {
      if (line.text === '-') {
        this.i++;
        const next = this.lines[this.i];
        out.push(next && next.indent > indent ? this.node(next.indent) : null);
        continue;
      }
      // `- rest`: rest is a scalar, or the first `key: value` of a mapping at rest's column.
      let pad = 1;
      while (line.text[pad] === ' ') pad++;
      const rest = line.text.slice(pad);
      if (rest.startsWith('- ') || rest === '-') decline(); // nested compact sequences: not here
      if (isPair(rest)) out.push(this.mapping(indent + pad, rest));
      else {
        this.i++;
        out.push(scalar(rest));
      }
    }
    return out;
  }

  /** A block mapping at `indent`; `first` is its first pair when it began after a `- `. */
  mapping(indent: number, first: string | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let text: string;
    if (first !== undefined) text = first;
    else {
      const line = this.lines[this.i];
      if (!line || line.indent !== indent) return decline();
      text = line.text;
    }
    for (;;) {
      const colon = text.indexOf(':');
      if (colon <= 0 || (text.length > colon + 1 && text[colon + 1] !== ' ')) decline();
      const key = text.slice(0, colon);
      // A keyword key (`True`, `NULL`) is a boolean or a null to `yaml`, stringified as a
      // key (`true`, ''), so two spellings collide there: declined, the package decides.
      if (!KEY.test(key) || key === '__proto__' || Object.hasOwn(out, key) || NOT_A_STRING.some((re) => re.test(key)))
        decline();
      this.i++;
      const rest = text.slice(colon + 1).trim();
      if (rest !== '') out[key] = scalar(rest);
      else {
        const next = this.lines[this.i];
        if (next && next.indent > indent) out[key] = this.node(next.indent);
        else if (next && next.indent === indent && (next.text === '-' || next.text.startsWith('- ')))
          out[key] = this.sequence(indent);
        else out[key] = null;
      }
      const line: Line | undefined = this.lines[this.i];
      if (!line || line.indent < indent) return out;
      if (line.indent > indent) decline();
      if (line.text === '-' || line.text.startsWith('- ')) return out; // the enclosing sequence's next item
      text = line.text;
    }
  }
}

function isPair(text: string): boolean {
  const colon = text.indexOf(':');
  return colon > 0 && (colon === text.length - 1 || text[colon + 1] === ' ') && KEY.test(text.slice(0, colon));
}

/**
 * The value of a YAML text in the subset described above, exactly as `yaml` (with
 * integers made exact) reads it; DECLINED when the text is outside the subset.
 */
export function parseSimpleYaml(text: string): unknown {
  if (text.includes('\t') || text.includes('\r') || NOT_SIMPLE_CHARS.test(text)) return DECLINED;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    let indent = 0;
    while (raw.charCodeAt(indent) === 0x20) indent++;
    if (indent === raw.length) continue; // blank
    const body = raw.slice(indent).trimEnd();
    if (body[0] === '#') continue; // a comment line
    if (indent === 0 && (body.startsWith('---') || body.startsWith('...') || body[0] === '%')) return DECLINED;
    lines.push({ indent, text: body });
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return DECLINED;
  const r = new Reader(lines);
  try {
    const value = r.node(0);
    return r.i === lines.length ? value : DECLINED;
  } catch {
    // Declined, or anything unexpected (a stack overflow on absurd nesting): `yaml` decides.
    return DECLINED;
  }
}
