/**
 * The docs hold together: every relative link in README.md and docs/*.md names a file
 * that exists and, with `#anchor`, a heading of that file; every page under docs/ is
 * reachable from the README's map; the systemd unit's Documentation= names pages the
 * package ships.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Text outside fenced code blocks (a `# comment` in a TOML block is not a heading). */
function prose(text: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    else if (!fence) out.push(line);
  }
  return out;
}

/** The anchors of a Markdown file's headings (a repeated heading gets -1, -2, as on GitHub). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n === 0 ? s : `${s}-${n}`);
  }
  return out;
}

/** The relative link targets of a Markdown file: `[text](target)`, not in code. */
function relativeLinks(text: string): string[] {
  const out: string[] = [];
  for (const line of prose(text)) {
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) out.push(target);
    }
  }
  return out;
}

/** Every link that does not resolve, as "file: target (why)". */
function brokenLinks(files: readonly string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    for (const target of relativeLinks(readFileSync(file, 'utf8'))) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      const where = `${relative(PACKAGE_ROOT, file)}: ${target}`;
      if (!existsSync(dest)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (anchor !== undefined && anchor !== '') {
        if (!dest.endsWith('.md') || statSync(dest).isDirectory()) continue;
        if (!anchors(readFileSync(dest, 'utf8')).has(anchor)) broken.push(`${where} (no heading with that anchor)`);
      }
    }
  }
  return broken;
}

const DOCS = join(PACKAGE_ROOT, 'docs');
const pages = () => [
  join(PACKAGE_ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(DOCS, f)),
];

describe('the docs', () => {
  it('have no broken relative link (file and anchor) in README.md or docs/*.md', () => {
    const files = pages();
    expect(files.length).toBeGreaterThan(5);
    expect(files.flatMap((f) => relativeLinks(readFileSync(f, 'utf8'))).length).toBeGreaterThan(10);
    expect(brokenLinks(files)).toEqual([]);
  });

  it('the checker itself finds a missing file and a missing anchor, and ignores code and URLs', () => {
    const dir = tmpDir('pyrq-links-');
    try {
      writeFileSync(join(dir.path, 'other.md'), '# Other\n\n## Every setting\n\n```toml\n# not a heading\n```\n');
      const page = join(dir.path, 'page.md');
      writeFileSync(
        page,
        '# Title\n\n## A `code` heading, here\n\n[ok](#title) [ok2](#a-code-heading-here) [url](https://example.com/x.md)\n`[not](nowhere.md)`\n```\n[not](nowhere.md)\n```\n[bad](nowhere.md) [bad2](#nope) [bad3](other.md#not-a-heading) [ok3](other.md#every-setting) [ok4](other.md)\n',
      );
      expect(brokenLinks([page]).map((b) => b.replace(/^.*page\.md: /, ''))).toEqual([
        'nowhere.md (no such file)',
        '#nope (no heading with that anchor)',
        'other.md#not-a-heading (no heading with that anchor)',
      ]);
    } finally {
      dir.cleanup();
    }
  });

  it("every page under docs/ is in the README's map", () => {
    const readme = relativeLinks(readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')).map((t) => t.split('#')[0]);
    for (const f of readdirSync(DOCS).filter((n) => n.endsWith('.md'))) expect(readme, f).toContain(`docs/${f}`);
  });

  it("the systemd unit's Documentation= names pages the package ships", () => {
    const unit = readFileSync(join(PACKAGE_ROOT, 'contrib', 'pyrq.service'), 'utf8');
    const uris = /^Documentation=(.*)$/m.exec(unit)![1]!.trim().split(/\s+/);
    const installed = '/usr/local/lib/node_modules/pyrq/';
    const shipped = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).files as string[];
    expect(uris.length).toBeGreaterThan(0);
    for (const uri of uris) {
      expect(uri.startsWith(`file://${installed}`), uri).toBe(true);
      const rel = uri.slice(`file://${installed}`.length);
      expect(existsSync(join(PACKAGE_ROOT, rel)), uri).toBe(true);
      // npm always ships README.md; anything else must be under "files".
      expect(
        rel === 'README.md' || shipped.some((f) => rel === f || rel.startsWith(`${f}/`)),
        `${rel} in package.json files`,
      ).toBe(true);
    }
    // ExecStart is where that prefix puts the binary.
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/pyrq /m);
  });
});
