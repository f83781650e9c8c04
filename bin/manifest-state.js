// Whether oclif.manifest.json is older than a compiled command: then it is stale (a `tsc`
// build without the manifest step) and would describe old flags, or miss a new command.
// One test, shared by bin/run.js (which removes a stale manifest before oclif reads it)
// and scripts/build-bundle.ts (which writes the manifest again unless it is fresh).
'use strict';
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** True when the manifest under `root` is older than a file of dist/cli/commands; false when there is no manifest or no compiled command. */
function manifestIsStale(root) {
  try {
    const written = statSync(join(root, 'oclif.manifest.json')).mtimeMs;
    const commands = join(root, 'dist', 'cli', 'commands');
    return readdirSync(commands).some((f) => f.endsWith('.js') && statSync(join(commands, f)).mtimeMs > written);
  } catch {
    return false;
  }
}

module.exports = { manifestIsStale };
