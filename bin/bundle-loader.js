// Runs the bundle (bundle/pyrq.cjs, scripts/build-bundle.ts) with V8's code cache: the
// first start of a command compiles it and saves what V8 compiled (in pyrq's cache
// directory, one file per command, keyed by the bundle and Node); later starts of that
// command skip most of the parsing and compiling (`pyrq status`: ~100 of ~300 ms of CPU
// on Node 20, which has no module compile cache). V8 checks a cache against the source
// and refuses one that does not match; the bundle then simply compiles.
'use strict';
const { isAscii } = require('node:buffer');
const { createHash } = require('node:crypto');
const { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

/** Runs `file` as the CommonJS bundle, `root` being the package root; `cacheDir` may be undefined (no cache). */
async function runBundle(file, root, cacheDir, argv) {
  // Started in a function of its own, which returns before the command runs: the file's
  // bytes (~6 MB) and the code cache read (~4 MB) are then garbage at once, where locals
  // of this async function would be held for the command's whole run (a daemon's life).
  await startBundle(file, root, cacheDir, argv);
}

/** Compiles and starts the bundle; returns what it exports (the command's promise). */
function startBundle(file, root, cacheDir, argv) {
  const require = createRequire(join(root, 'package.json'));
  globalThis.__pyrqRoot = root;
  // pino's transport (--pretty) starts a worker from its own files, which the bundle
  // has not: the package's (pino resolves `pino-pretty` from the bundle's directory).
  try {
    globalThis.__bundlerPathsOverrides = {
      'thread-stream-worker': createRequire(require.resolve('pino')).resolve('thread-stream/lib/worker.js'),
      'pino-worker': require.resolve('pino/lib/worker.js'),
    };
  } catch {
    // Not installed beside the bundle: --pretty cannot start (as in the single executable).
  }
  // The build makes the bundle pure ASCII (scripts/build-bundle.ts): read as Latin-1 it is
  // a one-byte string, copied; UTF-8 decoding would scan it and, for any non-ASCII
  // character, make a two-byte one (~10 % of `pyrq status`'s instructions).
  const bytes = readFileSync(file);
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const st = statSync(file);
  // One cache per command: each start adds what it compiled, and commands differ.
  const command = /^[a-z][a-z-]*$/.test(argv[0] ?? '') ? argv[0] : 'other';
  // Per Node (its V8 writes and reads the cache), then per build of the bundle.
  const node = `code-${process.version}-${process.arch}-`;
  const key = `${node}${createHash('sha256')
    .update(JSON.stringify([file, st.mtimeMs, st.size]))
    .digest('hex')
    .slice(0, 16)}-`;
  const cacheFile = cacheDir && join(cacheDir, `${key}${command}.bin`);
  let cachedData;
  try {
    if (cacheFile) cachedData = readFileSync(cacheFile);
  } catch {
    // Not cached yet.
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  if (cacheFile && (!cachedData || script.cachedDataRejected))
    process.once('exit', () => {
      try {
        mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, cacheFile);
        // This Node's caches of other builds are dead weight: a megabyte or more each.
        for (const f of readdirSync(cacheDir))
          if (f.startsWith(node) && !f.startsWith(key)) unlinkSync(join(cacheDir, f));
      } catch {
        // A cache that cannot be written: the bundle compiles every time.
      }
    });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, file, dirname(file));
  return module.exports;
}

module.exports = { runBundle };
