#!/usr/bin/env node
// The pyrq CLI entry point: oclif finds the commands in oclif.manifest.json (written by
// `npm run build`: `pyrq --help` then reads one file, and `pyrq <command>` imports only
// that command), or else discovers the compiled commands in dist/cli/commands.
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { execute } from '@oclif/core';

// A manifest older than a compiled command is stale (a `tsc` build without the manifest
// step): it would describe old flags, or miss a new command. Remove it, so oclif reads
// the commands themselves (slower, always right) until the next `npm run build`.
const manifest = new URL('../oclif.manifest.json', import.meta.url);
try {
  const written = statSync(manifest).mtimeMs;
  const commands = new URL('../dist/cli/commands/', import.meta.url);
  if (readdirSync(commands).some((f) => f.endsWith('.js') && statSync(new URL(f, commands)).mtimeMs > written)) unlinkSync(manifest);
} catch {
  // No manifest (or it is already gone): nothing to check.
}

await execute({ dir: import.meta.url });
