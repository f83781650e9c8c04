#!/usr/bin/env node
// The pyrq CLI entry point: oclif finds the commands in oclif.manifest.json (written by
// `npm run build`: `pyrq --help` then reads one file, and `pyrq <command>` imports only
// that command), or else discovers the compiled commands in dist/cli/commands.
//
// CommonJS (bin/package.json), unlike the package: an ES module as the main script
// starts Node's ESM loader, ~29 million instructions (~6 % of a bare `node -e 0`) that
// a start through the bundle, itself CommonJS, never needs (docs/performance.md).
'use strict';
const module_ = require('node:module');

// Node 22.1+ keeps the compiled code of the modules it loads in a cache on disk (in the
// system's temporary directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so the next
// start compiles less: ~12 % fewer instructions for `pyrq status` on Node 24. Node 20
// has no such cache. Before any other import, so oclif's modules are cached too.
module_.enableCompileCache?.();

const { createHash } = require('node:crypto');
const { existsSync, readFileSync, unlinkSync } = require('node:fs');
const { join } = require('node:path');
const { runBundle } = require('./bundle-loader.js');
const { cacheDir, fastPath, packageInstall } = require('./fast-path.js');
const { manifestIsStale } = require('./manifest-state.js');

const root = join(__dirname, '..');

// A stale manifest (manifest-state.js) is removed, so oclif reads the commands themselves
// (slower, always right) until the next `npm run build`.
const manifest = join(root, 'oclif.manifest.json');
if (manifestIsStale(root)) {
  try {
    unlinkSync(manifest);
  } catch {
    // Already gone (another start removed it first).
  }
}

// What the index would have done first (its other check, oclif's engine range, is
// covered by pyrq's own, narrower `engines`).
try {
  process.cwd();
} catch (e) {
  if (e.code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n');
}

async function main() {
  // `--version` and `--help` answered without oclif when they can be (fast-path.js).
  const fast = fastPath(process.argv.slice(2), packageInstall(root));
  if (fast.done) return;
  fast.recordHelp?.();
  // The bundle (`npm run build:bundle`, scripts/build-bundle.ts: pyrq and its packages in
  // one file) while the manifest beside it is the one it was built with (a hash: npm
  // gives installed files new times); a build since then (`npm run build`) removes the
  // stamp, or bin/run.js a stale manifest, and the compiled files run.
  // PYRQ_NO_BUNDLE=1 runs the compiled files even then: to debug with dist/'s source
  // maps, and for the test of which modules each command loads (cli-startup.test.ts),
  // which the one-file bundle cannot show.
  const bundle = join(root, 'bundle', 'pyrq.cjs');
  let fresh = false;
  if (process.env.PYRQ_NO_BUNDLE !== '1') {
    try {
      const built = readFileSync(join(root, 'bundle', 'pyrq.manifest-sha256'), 'utf8');
      fresh = createHash('sha256').update(readFileSync(manifest)).digest('hex') === built && existsSync(bundle);
    } catch {
      // No bundle, or no manifest.
    }
  }
  if (fresh) await runBundle(bundle, root, cacheDir(), process.argv.slice(2));
  else {
    // @oclif/core's narrower entry points, not its index: the index loads every part of oclif
    // (and semver, for a check of oclif's own Node engine range) before any command runs.
    const { execute } = await import('@oclif/core/execute');
    // The package's root (its package.json, the manifest, dist/): oclif would take the
    // nearest package.json to this file for it, which is bin/package.json.
    await execute({ loadOptions: { root } });
  }
}

// As a top-level await in an ES module: an error that escapes is printed and exits 1.
main().catch((e) => {
  process.exitCode = 1;
  throw e;
});
