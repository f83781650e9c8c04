import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

// What `npm pack` ships is what an `npm install -g pyrq-*.tgz` runs: everything read at
// run time from beside the code must be in it (the Lua scripts are read from src/).
describe('the published package', () => {
  it('holds the CLI, the compiled code, the parse worker, every Lua script, the JSON Schema and the docs', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
    });
    const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const lua = readdirSync(join(PACKAGE_ROOT, 'src', 'redis', 'commands')).filter((f) => f.endsWith('.lua'));
    expect(lua.length).toBeGreaterThanOrEqual(3);
    for (const f of [
      'bin/run.js',
      'README.md',
      'docs/daemon.md',
      'docs/configuration.md',
      'dist/cli/commands/daemon.js',
      'dist/sources/files/parse-worker.js',
      'schema/schedule.schema.json',
      'contrib/pyrq.service',
      ...lua.map((f) => `src/redis/commands/${f}`),
    ]) {
      expect(files.has(f), f).toBe(true);
    }
    expect([...files].some((f) => f.startsWith('test/') || f.startsWith('fixtures/'))).toBe(false);
    // Only the scripts are read from src/ (their typed wrappers run from dist/).
    expect([...files].filter((f) => f.startsWith('src/') && !f.endsWith('.lua'))).toEqual([]);
  });
});
