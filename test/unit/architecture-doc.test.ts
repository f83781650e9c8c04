/**
 * ARCHITECTURE.md names the home of every source file: each `.ts` file under `src`,
 * `sources`, `reconcilers` and `cli` (found by walking the file system) appears in it
 * as a backticked path from the repository root, and every `.ts`/`.lua`/`.mjs` path it
 * names in backticks exists. A path with a placeholder (`<name>`, `*`) is a pattern, not
 * a file, and a bare file name (`kind.ts`) must be the name of some file of the repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FOLDERS = ['src', 'sources', 'reconcilers', 'cli'];
/** Where a bare file name in the doc may live. */
const NAME_FOLDERS = [...FOLDERS, 'test', 'scripts', 'bench'];

/** Files under `dir` (relative to the root, `/`-separated) whose name ends in one of `exts`. */
function walk(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  const full = join(ROOT, dir);
  if (!existsSync(full)) return out;
  for (const e of readdirSync(full, { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...walk(rel, exts));
    else if (exts.some((x) => e.name.endsWith(x))) out.push(rel);
  }
  return out;
}

/** Backticked file paths in a text (`src/x.ts`, `kind.ts`), placeholders and globs left out. */
function backtickedPaths(doc: string): string[] {
  return [...doc.matchAll(/`([A-Za-z0-9_./-]+\.(?:ts|lua|mjs))`/g)].map((m) => m[1]!);
}

/**
 * What is wrong between a doc and the files: source files the doc does not name as
 * `` `path` ``, and backticked paths that name no file.
 */
function docProblems(
  doc: string,
  sourceFiles: readonly string[],
  isFile: (path: string) => boolean,
  names: ReadonlySet<string>,
): { missing: string[]; dangling: string[] } {
  const missing = sourceFiles.filter((f) => !doc.includes(`\`${f}\``));
  const dangling = [...new Set(backtickedPaths(doc))].filter((p) => (p.includes('/') ? !isFile(p) : !names.has(p)));
  return { missing, dangling };
}

const sourceFiles = FOLDERS.flatMap((d) => walk(d, ['.ts'])).sort();
const names = new Set(
  [...NAME_FOLDERS.flatMap((d) => walk(d, ['.ts', '.lua', '.mjs'])), ...readdirSync(ROOT)].map((p) => basename(p)),
);
const isFile = (p: string) => existsSync(join(ROOT, p));

describe('ARCHITECTURE.md', () => {
  const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');

  it('names every .ts file under src, sources, reconcilers and cli (add a line to its file map)', () => {
    expect(sourceFiles.length).toBeGreaterThan(100);
    const { missing } = docProblems(doc, sourceFiles, isFile, names);
    expect(
      missing,
      `ARCHITECTURE.md does not name these files; add each, in backticks with a one-line purpose, to the file map:\n${missing.join('\n')}`,
    ).toEqual([]);
  });

  it('names no file that does not exist', () => {
    const { dangling } = docProblems(doc, sourceFiles, isFile, names);
    expect(
      dangling,
      `ARCHITECTURE.md names files that do not exist (renamed or removed?):\n${dangling.join('\n')}`,
    ).toEqual([]);
  });

  it('the check itself catches a file left out and a path that names nothing', () => {
    const fake =
      'The map: `src/a.ts` does this; `kind.ts` is named bare; `src/<name>.ts` is a pattern; `src/gone.ts` was removed.';
    const r = docProblems(fake, ['src/a.ts', 'src/b.ts'], (p) => p === 'src/a.ts', new Set(['kind.ts']));
    expect(r).toEqual({ missing: ['src/b.ts'], dangling: ['src/gone.ts'] });
  });
});
