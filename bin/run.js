#!/usr/bin/env node
// The pyrq CLI entry point: oclif finds the commands in oclif.manifest.json (written by
// `npm run build`: `pyrq --help` then reads one file, and `pyrq <command>` imports only
// that command), or else discovers the compiled commands in dist/cli/commands.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runBundle } from './bundle-loader.js';
import { cacheDir, fastPath, packageInstall } from './fast-path.js';

// Node 22.1+ keeps the compiled code of the modules it loads in a cache on disk (in the
// system's temporary directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so the next
// start compiles less: ~12 % fewer instructions for `pyrq status` on Node 24. Node 20
// has no such cache. Before any other import, so oclif's modules are cached too.
module.enableCompileCache?.();

// A manifest older than a compiled command is stale (a `tsc` build without the manifest
// step): it would describe old flags, or miss a new command. Remove it, so oclif reads
// the commands themselves (slower, always right) until the next `npm run build`.
const manifest = new URL('../oclif.manifest.json', import.meta.url);
try {
  const written = statSync(manifest).mtimeMs;
  const commands = new URL('../dist/cli/commands/', import.meta.url);
  if (readdirSync(commands).some((f) => f.endsWith('.js') && statSync(new URL(f, commands)).mtimeMs > written))
    unlinkSync(manifest);
} catch {
  // No manifest (or it is already gone): nothing to check.
}

// What the index would have done first (its other check, oclif's engine range, is
// covered by pyrq's own, narrower `engines`).
try {
  process.cwd();
} catch (e) {
  if (e.code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n');
}

// `--version` and `--help` answered without oclif when they can be (fast-path.js).
const root = fileURLToPath(new URL('..', import.meta.url));
const fast = fastPath(process.argv.slice(2), packageInstall(root));
if (!fast.done) {
  fast.recordHelp?.();
  // The bundle (`npm run build:bundle`, scripts/build-bundle.ts: pyrq and its packages in
  // one file) while the manifest beside it is the one it was built with (a hash: npm
  // gives installed files new times); a build since then (`npm run build`) removes the
  // stamp, or bin/run.js a stale manifest, and the compiled files run.
  const bundle = join(root, 'bundle', 'pyrq.cjs');
  let fresh = false;
  try {
    const built = readFileSync(join(root, 'bundle', 'pyrq.manifest-sha256'), 'utf8');
    fresh = createHash('sha256').update(readFileSync(manifest)).digest('hex') === built && existsSync(bundle);
  } catch {
    // No bundle, or no manifest.
  }
  if (fresh) await runBundle(bundle, root, cacheDir(), process.argv.slice(2));
  else {
    // @oclif/core's narrower entry points, not its index: the index loads every part of oclif
    // (and semver, for a check of oclif's own Node engine range) before any command runs.
    const { execute } = await import('@oclif/core/execute');
    await execute({ dir: import.meta.url });
  }
}
