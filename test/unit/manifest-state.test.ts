/**
 * bin/manifest-state.js: the one test of a stale oclif manifest (older than a compiled
 * command), shared by bin/run.js, which removes such a manifest before oclif reads it,
 * and scripts/build-bundle.ts, which writes the manifest again unless it is fresh.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp-dir.js';

const { manifestIsStale } = createRequire(import.meta.url)('../../bin/manifest-state.js') as {
  manifestIsStale(root: string): boolean;
};

let dir: ReturnType<typeof tmpDir>;
afterEach(() => dir.cleanup());

/** A package root with a manifest written at `manifestAt` and compiled commands at `commandsAt` (seconds). */
function packageRoot(manifestAt: number | undefined, commandsAt: number[]): string {
  dir = tmpDir();
  const commands = join(dir.path, 'dist', 'cli', 'commands');
  mkdirSync(commands, { recursive: true });
  commandsAt.forEach((t, i) => {
    const f = join(commands, `c${i}.js`);
    writeFileSync(f, '');
    utimesSync(f, t, t);
  });
  writeFileSync(join(commands, 'c0.d.ts'), ''); // not a command: never compared
  utimesSync(join(commands, 'c0.d.ts'), 9e9, 9e9);
  if (manifestAt !== undefined) {
    writeFileSync(join(dir.path, 'oclif.manifest.json'), '{"version":"0","commands":{}}');
    utimesSync(join(dir.path, 'oclif.manifest.json'), manifestAt, manifestAt);
  }
  return dir.path;
}

describe('manifestIsStale', () => {
  it('is true when a compiled command is newer than the manifest, false when none is', () => {
    expect(manifestIsStale(packageRoot(2000, [1000, 2500]))).toBe(true);
    dir.cleanup();
    expect(manifestIsStale(packageRoot(2000, [1000, 2000]))).toBe(false);
  });

  it('is false when there is no manifest, or no compiled commands', () => {
    expect(manifestIsStale(packageRoot(undefined, [1000]))).toBe(false);
    dir.cleanup();
    dir = tmpDir();
    writeFileSync(join(dir.path, 'oclif.manifest.json'), '{}');
    expect(manifestIsStale(dir.path)).toBe(false);
  });

  it('bin/run.js removes a stale manifest before anything reads it, and keeps a fresh one', () => {
    for (const [commandAt, kept] of [
      [2500, false],
      [1500, true],
    ] as const) {
      const root = packageRoot(2000, [1000, commandAt]);
      cpSync(join(import.meta.dirname, '..', '..', 'bin'), join(root, 'bin'), { recursive: true });
      // No package.json here: the command itself fails; the check runs before it.
      spawnSync(process.execPath, [join(root, 'bin', 'run.js'), '--version'], { encoding: 'utf8' });
      expect(existsSync(join(root, 'oclif.manifest.json'))).toBe(kept);
      dir.cleanup();
    }
    dir = tmpDir(); // for afterEach
  });
});
