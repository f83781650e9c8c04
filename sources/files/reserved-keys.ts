/**
 * Keys refused anywhere in a schedule file: `__proto__`, `constructor`, `prototype`.
 *
 * `yaml` builds mappings by assignment, so a `__proto__:` key became the object's
 * prototype: its fields (`enabled: false`, `queue: hidden`) were then read as the
 * schedule's own without an "unknown field", and a `__proto__` inside kwargs vanished.
 * JSON (canonical-json.ts) and TOML (@iarna/toml) keep such a key as an own property,
 * but every later copy by assignment would turn it into a prototype again. Rather than
 * trust every step from the file to the job, these three names are refused in every
 * format and at every depth, kwargs included (a Python job that needs such a keyword can
 * take it under another name). The error names the path of the key.
 *
 * Pure: no I/O.
 */
import { formatPath } from '../../src/model/issues.js';

export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The first reserved key in a parsed document, as an error message naming its path, or
 * undefined. A plain object whose prototype is not Object.prototype had a `__proto__`
 * key that the parser assigned (yaml's toJS), so it counts as one.
 */
export function reservedKeyError(doc: unknown): string | undefined {
  // Iterative, depth first, each node linked to its parent (the path is built only for
  // an error): a document nested 100,000 deep must cost neither stack nor quadratic time.
  const stack: Node[] = [{ v: doc }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.v;
    if (v === null || typeof v !== 'object' || v instanceof Date) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], key: i, parent: node });
      continue;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return message(pathOf(node), '__proto__');
    const keys = Object.keys(v);
    const bad = keys.find((k) => RESERVED_KEYS.has(k));
    if (bad !== undefined) return message(pathOf(node), bad);
    for (let i = keys.length - 1; i >= 0; i--)
      stack.push({ v: (v as Record<string, unknown>)[keys[i]!], key: keys[i]!, parent: node });
  }
  return undefined;
}

interface Node {
  v: unknown;
  key?: string | number;
  parent?: Node;
}

function pathOf(node: Node): (string | number)[] {
  const out: (string | number)[] = [];
  for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) out.push(n.key);
  return out.reverse();
}

function message(path: readonly (string | number)[], key: string): string {
  const where = formatPath(path);
  return `${where === '' ? '' : `${where}: `}the key "${key}" is refused (__proto__, constructor and prototype are reserved names); rename it`;
}
