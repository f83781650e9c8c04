/**
 * Writes `oclif.manifest.json` (part of `npm run build`): the commands' ids, flags, args
 * and help as data, so that `pyrq --help` reads one file instead of importing every
 * command, and `pyrq <command>` imports only that command. This is what `oclif manifest`
 * (the oclif dev CLI) does, with the `Plugin` class of @oclif/core that pyrq already has,
 * instead of a devDependency with hundreds of packages.
 *
 * A manifest older than the compiled commands (a `tsc` build without this step) is stale:
 * bin/run.js then ignores it (see there). Writing it also retires the bundle's stamp
 * (scripts/build-bundle.ts), so a bundle never runs code older than the compiled files.
 */
import { rmSync, writeFileSync } from 'node:fs';
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
// A new build: a bundle of an earlier one no longer matches the compiled code, even where
// the manifest reads the same. Its stamp goes, so bin/run.js runs the compiled files
// until `npm run build:bundle` (which writes the manifest first, then bundles and stamps).
rmSync(join(root, 'bundle', 'pyrq.manifest-sha256'), { force: true });
console.info(`${path}: ${Object.keys(plugin.manifest.commands).length} commands`);
