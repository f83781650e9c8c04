/**
 * `npm run build:bundle [-- --out DIR]`: pyrq as one JavaScript file (bundle/pyrq.cjs),
 * built by esbuild from the compiled code in dist/ (`npm run build` first). Nothing in
 * it is read from the package on disk: the Lua scripts, package.json, the oclif manifest
 * and the parse worker's and the dispatcher thread's code are embedded, and oclif's plugins (help, autocomplete) are
 * commands of the embedded manifest instead of packages. So the same file serves:
 *
 * - bin/run.js, while oclif.manifest.json is the one it was built with: one file read instead
 *   of ~100-300 modules resolved and read one by one, compiled once and then started
 *   from V8's code cache (bin/bundle-loader.js);
 * - the single executable (`npm run build:sea`, scripts/build-sea.ts), as its main script.
 *
 * Why esbuild (a devDependency, used at build time only): it bundles ESM and CommonJS
 * together, with `import()` kept lazy (a command's modules are evaluated only when it
 * runs), in a few seconds; the package installs and runs with no bundler.
 *
 * oclif loads commands, its help class and hooks with `import(path)` of files found from
 * the manifest: `@oclif/core/lib/module-loader.js` is replaced in the bundle by one that
 * serves those paths from the bundle (and defers to the original for anything else), and
 * its `readJson` serves the embedded manifest.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist');

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = values.out ?? join(ROOT, 'bundle');
mkdirSync(outDir, { recursive: true });

interface Manifest {
  version: string;
  commands: Record<string, { relativePath?: string[]; pluginName?: string; pluginAlias?: string; pluginType?: string }>;
}
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
// The manifest of the compiled commands: the bundle is built against it, and bin/run.js
// runs the bundle only while the manifest is the one it was built with. Written now
// unless it is there and not stale (bin/manifest-state.js, bin/run.js's own test): `npm
// run build` has just written it. Writing it retires the package's bundle stamp, which a
// build into another directory (--out: the distribution test, while other tests run the
// package's bundle) must not do for a manifest that has not changed.
const manifestPath = join(ROOT, 'oclif.manifest.json');
const { manifestIsStale } = createRequire(import.meta.url)(join(ROOT, 'bin', 'manifest-state.js')) as {
  manifestIsStale(root: string): boolean;
};
const manifestFresh = existsSync(manifestPath) && !manifestIsStale(ROOT);
if (!manifestFresh)
  execFileSync(process.execPath, [join(DIST, 'scripts', 'write-oclif-manifest.js')], { stdio: 'ignore' });
const manifestText = readFileSync(manifestPath);
const manifestHash = createHash('sha256').update(manifestText).digest('hex');
const manifest = JSON.parse(manifestText.toString('utf8')) as Manifest;
const pjson = readJson<{ version: string; oclif: Record<string, unknown> }>(join(ROOT, 'package.json'));

/** Module key (path from the package root, no extension) -> the file esbuild bundles for it. */
const modules = new Map<string, string>();
const keyOf = (rel: string) => rel.replace(/\.js$/, '');
for (const c of Object.values(manifest.commands))
  if (c.relativePath) modules.set(keyOf(c.relativePath.join('/')), join(ROOT, ...c.relativePath));
modules.set('dist/cli/help', join(DIST, 'cli', 'help.js'));
modules.set('dist/cli/hooks/command-not-found', join(DIST, 'cli', 'hooks', 'command-not-found.js'));

/** The bundle's own manifest: pyrq's commands and those of oclif's plugins, all served from the bundle. */
function seaManifest(): Manifest {
  const commands = { ...manifest.commands };
  for (const plugin of ['plugin-help', 'plugin-autocomplete']) {
    const dir = join(ROOT, 'node_modules', '@oclif', plugin);
    for (const [id, c] of Object.entries(readJson<Manifest>(join(dir, 'oclif.manifest.json')).commands)) {
      const rel = ['plugins', plugin, ...(c.relativePath ?? [])];
      modules.set(keyOf(rel.join('/')), join(dir, ...(c.relativePath ?? [])));
      commands[id] = { ...c, relativePath: rel, pluginName: 'pyrq', pluginAlias: 'pyrq', pluginType: 'core' };
    }
  }
  return { ...manifest, commands };
}

/** The embedded files (src/package-files.ts's replacement in the bundle reads them). */
async function seaFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  files['package.json'] = readFileSync(join(ROOT, 'package.json'), 'utf8');
  for (const name of readdirSync(join(ROOT, 'src', 'redis', 'commands')).filter((f) => f.endsWith('.lua')))
    files[`src/redis/commands/${name}`] = readFileSync(join(ROOT, 'src', 'redis', 'commands', name), 'utf8');
  // The parse worker, bundled on its own: a worker thread started from code (`eval`).
  files['parse-worker'] = await bundleWorker(join(DIST, 'sources', 'files', 'parse-worker.js'), []);
  // The dispatcher thread, the same way; it reads the Lua scripts, embedded in it too.
  const scripts = { ...files };
  delete scripts['parse-worker'];
  files['dispatcher-worker'] = await bundleWorker(join(DIST, 'reconcilers', 'dispatcher-worker.js'), [
    {
      name: 'pyrq-package-files',
      setup(b) {
        b.onResolve({ filter: /package-files\.js$/ }, () => ({ path: 'package-files', namespace: 'pyrq-worker' }));
        b.onLoad({ filter: /.*/, namespace: 'pyrq-worker' }, () => ({
          contents: packageFilesModule(scripts),
          resolveDir: ROOT,
        }));
      },
    },
  ]);
  return files;
}

/** A worker thread's script as one piece of code, for `new Worker(code, { eval: true })`. */
async function bundleWorker(entry: string, plugins: Plugin[]): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    // A function around it: code run with `eval` is a script, whose top-level names would
    // be globals (its `crypto` would collide with the global one).
    format: 'iife',
    write: false,
    minifyWhitespace: true,
    // pino-pretty: loaded by pino's transport thread, from the package's files (as in the bundle).
    external: ['pino-pretty'],
    plugins: [nodeRequires, ...plugins],
    logLevel: 'error',
  });
  return out.outputFiles[0]!.text;
}

/** src/package-files.ts's replacement: the files embedded in the module. */
function packageFilesModule(files: Record<string, string>): string {
  return `const files = ${JSON.stringify(files)};
export function packageText(rel) {
  const text = files[rel];
  if (text === undefined) throw new Error('pyrq: ' + rel + ' is not in this executable');
  return text;
}
export function parseWorkerScript() { return files['parse-worker'] === undefined ? undefined : { code: files['parse-worker'] }; }
export function dispatchWorkerScript() { return files['dispatcher-worker'] === undefined ? undefined : { code: files['dispatcher-worker'] }; }
`;
}

/**
 * pyrq loads some CommonJS packages lazily with `createRequire(import.meta.url)(name)`
 * (ioredis, yaml, TOML, cronstrue): a call esbuild cannot follow. In the bundle they are
 * plain `require(name)` calls, which it bundles (still evaluated only when called).
 */
const nodeRequires: Plugin = {
  name: 'pyrq-create-require',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      if (!text.includes('createRequire(import.meta.url)')) return undefined;
      // `const x = createRequire(import.meta.url);` then `x('pkg')`: call sites become `require('pkg')`.
      for (const m of text.matchAll(/const (\w+) = createRequire\(import\.meta\.url\);/g))
        text = text.replaceAll(`${m[1]}(`, 'require(').replace(m[0], '');
      text = text.replaceAll('createRequire(import.meta.url)(', 'require(');
      return { contents: text, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/** The module table and the replacement of oclif's module loader (see the header). */
function oclifModules(files?: Record<string, string>, seaManifestJson?: string): Plugin {
  return {
    name: 'pyrq-oclif-modules',
    setup(b) {
      b.onResolve({ filter: /^pyrq-bundle:/ }, (args) => ({ path: args.path, namespace: 'pyrq-bundle' }));
      b.onResolve({ filter: /[\\/]module-loader$/ }, (args) =>
        args.importer.includes(`${join('@oclif', 'core', 'lib')}`) && args.namespace === 'file'
          ? { path: 'pyrq-bundle:module-loader', namespace: 'pyrq-bundle' }
          : undefined,
      );
      b.onResolve({ filter: /[\\/]util[\\/]fs$|^\.\/fs$|^\.\.\/util\/fs$/ }, (args) =>
        args.importer.includes(`${join('@oclif', 'core', 'lib')}`) && args.namespace === 'file'
          ? { path: 'pyrq-bundle:oclif-fs', namespace: 'pyrq-bundle' }
          : undefined,
      );
      b.onResolve({ filter: /package-files\.js$/ }, (args) =>
        args.namespace === 'file' ? { path: 'pyrq-bundle:package-files', namespace: 'pyrq-bundle' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'pyrq-bundle' }, (args) => {
        const loaderDir = join(ROOT, 'node_modules', '@oclif', 'core', 'lib');
        switch (args.path) {
          case 'pyrq-bundle:modules':
            return {
              contents: `export const modules = {\n${[...modules]
                .map(([k, f]) => `  ${JSON.stringify(k)}: () => import(${JSON.stringify(f)}),`)
                .join('\n')}\n};\n`,
              resolveDir: ROOT,
            };
          case 'pyrq-bundle:module-loader':
            return { contents: moduleLoaderShim(join(loaderDir, 'module-loader.js')), resolveDir: loaderDir };
          case 'pyrq-bundle:oclif-fs':
            return {
              contents: `const original = require(${JSON.stringify(join(loaderDir, 'util', 'fs.js'))});
const { join } = require('node:path');
const manifest = ${JSON.stringify(seaManifestJson)};
/** The manifest is embedded; every other file is read from disk as oclif does. */
async function readJson(path, useCache) {
  if (path === join(globalThis.__pyrqRoot ?? '', 'oclif.manifest.json')) return JSON.parse(manifest);
  return original.readJson(path, useCache);
}
async function safeReadJson(path, useCache) {
  try { return await readJson(path, useCache); } catch { return undefined; }
}
module.exports = { ...original, readJson, safeReadJson };
`,
              resolveDir: loaderDir,
            };
          case 'pyrq-bundle:package-files':
            return { contents: packageFilesModule(files ?? {}), resolveDir: ROOT };
        }
        return undefined;
      });
    },
  };
}

/**
 * oclif's module loader, serving the files of the module table from the bundle. A path is
 * looked up relative to the root of the plugin or config that asks (pyrq's own root: its
 * commands, help class, hook); anything else (another plugin's commands) is the original's.
 */
function moduleLoaderShim(original: string): string {
  return `const original = require(${JSON.stringify(original)});
const { isAbsolute, relative, resolve, sep, join } = require('node:path');
const { modules } = require('pyrq-bundle:modules');
function bundled(root, modulePath) {
  if (!root) return undefined;
  const rel = relative(root, isAbsolute(modulePath) ? modulePath : resolve(root, modulePath)).split(sep).join('/');
  const load = modules[rel.replace(/\\.js$/, '')];
  return load && { filePath: join(root, rel), load };
}
const rootOf = (config) => (config && config.isRoot !== false ? config.root : undefined);
async function load(config, modulePath) {
  const b = bundled(rootOf(config), modulePath);
  return b ? b.load() : original.load(config, modulePath);
}
async function loadWithData(config, modulePath) {
  const b = bundled(rootOf(config), modulePath);
  return b ? { filePath: b.filePath, isESM: true, module: await b.load() } : original.loadWithData(config, modulePath);
}
async function loadWithDataFromManifest(cached, root) {
  const b = cached.relativePath && bundled(root, join(root, ...cached.relativePath));
  return b ? { filePath: b.filePath, isESM: true, module: await b.load() } : original.loadWithDataFromManifest(cached, root);
}
module.exports = { ...original, load, loadWithData, loadWithDataFromManifest };
`;
}

/**
 * oclif gets package.json as an object and a root: the package's (bin/run.js sets
 * `globalThis.__pyrqRoot`), or the executable's directory, which holds nothing of pyrq;
 * the manifest and every module come from the bundle.
 */
function entry(): string {
  const oclif = { ...pjson.oclif, plugins: [] };
  return `const { dirname } = require('node:path');
const { statSync } = require('node:fs');
const pjson = ${JSON.stringify({ ...pjson, oclif })};
// Started by bin/run.js, which answered --version and --help itself when it could; else
// the single executable: the same fast path, its help keyed by the executable's file.
let fast = { done: false };
if (globalThis.__pyrqRoot === undefined) {
  const { fastPath } = require(${JSON.stringify(join(ROOT, 'bin', 'fast-path.js'))});
  fast = fastPath(process.argv.slice(2), {
    pjson: () => pjson,
    stamp: () => { const s = statSync(process.execPath); return [process.execPath, s.mtimeMs, s.size]; },
  });
  fast.recordHelp?.();
}
const root = (globalThis.__pyrqRoot ??= dirname(process.execPath));
// The bundle is compiled code: under NODE_ENV=development or test oclif would look for
// TypeScript to transpile commands with, and print a warning about it on every run.
require('@oclif/core/settings').settings.enableAutoTranspile = false;
module.exports = fast.done ? Promise.resolve() : require('@oclif/core/execute').execute({ loadOptions: { root, pjson } });
`;
}

/**
 * The bundle needs no module from disk. Packages probe for optional ones (mysql2 for
 * cardinal, oclif for TypeScript) and do without; the single executable's require()
 * would warn on each. This one loads built-in modules; any other name is "not found", as
 * with nothing installed, and is never looked for on disk.
 */
const BUILTIN_REQUIRE = `require = ((builtin) => { const { isBuiltin } = builtin('node:module'); return Object.assign((id) => { if (isBuiltin(id)) return builtin(id); throw Object.assign(new Error("Cannot find module '" + id + "' (not in this executable)"), { code: 'MODULE_NOT_FOUND' }); }, builtin); })(require);`;

/**
 * The bundle as pure ASCII: bin/bundle-loader.js then reads it as Latin-1, one byte per
 * character (Node makes a 4.7 MB one-byte string with a copy), where UTF-8 text with a
 * single non-ASCII character is decoded into a two-byte string of twice the size: ~100
 * million instructions, ~10 % of `pyrq status` (callgrind). esbuild escapes non-ASCII
 * text except where an escape could change the meaning: tagged templates (pyrq's `html`
 * tag, which reads the cooked strings, where an escape means the same) and regular
 * expressions (ansis's `[\x1b\x9b]`, where it means the same too). Each character left
 * becomes its `\uXXXX` escape, valid in strings, templates, regular expressions and
 * names alike; one after a backslash (where it would not be) leaves the bundle as it
 * is: the loader then decodes it as UTF-8, correct and slower.
 */
function asciiOnly(file: string): void {
  const text = readFileSync(file, 'utf8');
  if (!/[\u0080-\uffff]/.test(text)) return;
  if (/\\[\u0080-\uffff]/.test(text)) {
    console.warn(`${file}: a non-ASCII character after a backslash: left as UTF-8 (slower start)`);
    return;
  }
  writeFileSync(
    file,
    text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  );
}

const started = performance.now();
const seaManifestJson = JSON.stringify(seaManifest());
const files = await seaFiles();
const outfile = join(outDir, 'pyrq.cjs');
const result = await build({
  stdin: { contents: entry(), resolveDir: DIST, sourcefile: 'pyrq-entry.js', loader: 'js' },
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Whitespace only: names stay readable in stack traces and error messages.
  minifyWhitespace: true,
  legalComments: 'none',
  banner: { js: BUILTIN_REQUIRE },
  // Optional native or peer modules that the packages probe for and do without; and
  // pino-pretty, which pino's transport (--pretty) loads by name in a worker thread
  // started from a file: bin/bundle-loader.js points pino at the package's own files
  // (the single executable has none: no --pretty there).
  external: [
    'pino-pretty',
    'pg-native',
    'cardinal',
    'bufferutil',
    'utf-8-validate',
    'fsevents',
    // oclif reads a tsconfig with TypeScript only when it runs commands from .ts sources.
    'typescript',
  ],
  plugins: [nodeRequires, oclifModules(files, seaManifestJson)],
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile));
asciiOnly(outfile);
// What bin/run.js compares with the manifest beside it: the bundle runs only while that
// is the manifest it was built with (file times say nothing once npm installs it).
writeFileSync(join(outDir, 'pyrq.manifest-sha256'), manifestHash);
const bytes = readFileSync(outfile).length;
console.info(
  `${relative(process.cwd(), outfile)}: ${(bytes / 1e6).toFixed(2)} MB, ${Object.keys(result.metafile.inputs).length} modules, ${Math.round(performance.now() - started)} ms`,
);
