// `pyrq --version` and `pyrq --help` (or bare `pyrq`) without loading oclif: they print
// the same text every time for the same installation and terminal, and loading oclif to
// say so costs more than the rest of a start. Anything else, or any doubt, returns false
// and oclif runs as always.
//
// --version: oclif's user agent (`pyrq/0.1.0 linux-x64 node-v20.20.2`), built the same way.
// --help: the text oclif printed the last time under the same conditions (a cache file
// keyed by everything the text depends on: the manifest, the package's version, Node,
// the platform, the terminal's width, whether stdout is a terminal, and the environment
// variables oclif and its colour support read). A miss runs oclif and records what it
// printed, for the next time.
'use strict';
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { arch, homedir, release } = require('node:os');
const { join } = require('node:path');

/** The environment variables the help's text can depend on (width, colour, oclif's settings). */
const ENV = /^(OCLIF_|PYRQ_|FORCE_COLOR$|NO_COLOR$|NODE_DISABLE_COLORS$|TERM$|COLORTERM$|COLUMNS$|DEBUG$|LANG$|LC_)/;

/** oclif's platform name: `wsl` under WSL (is-wsl), which only oclif tells apart; undefined then. */
function platform() {
  if (process.platform !== 'linux') return process.platform;
  if (release().toLowerCase().includes('microsoft')) return undefined;
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return undefined;
  } catch {
    // No /proc/version: is-wsl says "not WSL" too.
  }
  return 'linux';
}

/** oclif's cache directory (Config#cacheDir on Linux; elsewhere no cache). */
function cacheDir() {
  if (process.env.PYRQ_CACHE_DIR) return process.env.PYRQ_CACHE_DIR;
  if (process.platform !== 'linux') return undefined;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pyrq');
}

/** The installation, from the package root: its package.json, and what its help depends on. */
function packageInstall(root) {
  return {
    pjson: () => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')),
    stamp: () => {
      const m = statSync(join(root, 'oclif.manifest.json'));
      const pkg = statSync(join(root, 'package.json'));
      return [root, m.mtimeMs, m.size, pkg.mtimeMs, pkg.size];
    },
  };
}

/**
 * Answers `argv` here when it can: `done` when it did (the process is done), else oclif
 * must run, and `recordHelp` (when set) is to be called before it runs. `install`:
 * `packageInstall(root)`, or the single executable's (its package.json, its own file).
 */
function fastPath(argv, install) {
  if (argv.length === 1 && argv[0] === '--version') {
    const p = platform();
    if (!p) return { done: false };
    const { name, version } = install.pjson();
    process.stdout.write(`${name}/${version} ${p}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`);
    return { done: true };
  }
  if (!(argv.length === 0 || (argv.length === 1 && argv[0] === '--help'))) return { done: false };
  const dir = cacheDir();
  const p = platform();
  if (!dir || !p) return { done: false };
  let key;
  try {
    const stamp = install.stamp();
    const out = process.stdout;
    const env = Object.keys(process.env)
      .filter((k) => ENV.test(k))
      .sort()
      .map((k) => `${k}=${process.env[k]}`);
    key = createHash('sha256')
      .update(
        JSON.stringify([
          stamp,
          process.version,
          p,
          arch(),
          argv,
          env,
          out.isTTY === true,
          out.isTTY ? out.getWindowSize() : null,
        ]),
      )
      .digest('hex')
      .slice(0, 32);
  } catch {
    return { done: false }; // no manifest: oclif reads the commands themselves
  }
  const file = join(dir, `help-${key}.txt`);
  try {
    process.stdout.write(readFileSync(file));
    return { done: true };
  } catch {
    // Not recorded yet.
  }
  return { done: false, recordHelp: () => record(dir, file) };
}

/** Keeps what oclif writes to stdout, and saves it when the process ends well. */
function record(dir, file) {
  const chunks = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return write(chunk, ...rest);
  };
  process.on('exit', (code) => {
    if (code !== 0 || process.exitCode) return;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, Buffer.concat(chunks), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      // A cache that cannot be written (no home, read-only): oclif answers every time.
    }
  });
}

module.exports = { cacheDir, packageInstall, fastPath };
