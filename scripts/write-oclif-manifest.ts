/**
 * Writes `oclif.manifest.json` (part of `npm run build`): the commands' ids, flags, args
 * and help as data, so that `pyrq --help` reads one file instead of importing every
 * command, and `pyrq <command>` imports only that command. This is what `oclif manifest`
 * (the oclif dev CLI) does, with the `Plugin` class of @oclif/core that pyrq already has,
 * instead of a devDependency with hundreds of packages.
 *
 * A manifest older than the compiled commands (a `tsc` build without this step) is stale:
 * bin/run.js then ignores it (see there).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Plugin } from '@oclif/core';

const root = join(import.meta.dirname, '..', '..');
const plugin = new Plugin({
  root,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
});
await plugin.load();
const path = join(root, 'oclif.manifest.json');
writeFileSync(path, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.info(`${path}: ${Object.keys(plugin.manifest.commands).length} commands`);
