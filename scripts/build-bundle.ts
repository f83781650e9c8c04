/**
 * `npm run build:bundle [-- --out DIR] [-- --sea]`: pyrq as one JavaScript file, built by
 * esbuild from the compiled code in dist/ (so `npm run build` first).
 *
 * - Default (`bundle/pyrq.mjs`): what bin/run.js starts when it is there and at least as
 *   new as oclif.manifest.json. One file instead of ~100-300 modules resolved and read
 *   one by one; oclif, its plugins and the manifest are used exactly as without it (the
 *   package root, package.json and node_modules are on disk beside it).
 * - `--sea` (`bundle/pyrq-sea.cjs`): the input of the single executable
 *   (scripts/build-sea.ts). Nothing may be read from a package on disk: the Lua scripts,
 *   package.json, the oclif manifest and the parse worker's code are embedded, and oclif's
 *   plugins (help, autocomplete) are commands of the manifest instead of packages.
 *
 * Why esbuild (a devDependency, used at build time only): it bundles ESM and CommonJS
 * together, with `import()` kept lazy (a command's modules are evaluated only when it
 * runs), in well under a second; the package installs with no bundler.
 *
 * oclif loads commands, its help class and hooks with `import(path)` of files found from
 * the manifest: `@oclif/core/lib/module-loader.js` is replaced in the bundle by one that
 * serves those paths from the bundle (and defers to the original for anything else).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist');

const { values } = parseArgs({ options: { out: { type: 'string' }, sea: { type: 'boolean', default: false } } });
const sea = values.sea === true;
const outDir = values.out ?? join(ROOT, 'bundle');
// A fresh directory: chunks of an earlier build would be left behind.
if (!sea) rmSync(join(outDir, 'chunks'), { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

interface Manifest {
  version: string;
  commands: Record<string, { relativePath?: string[]; pluginName?: string; pluginAlias?: string; pluginType?: string }>;
}
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const manifest = readJson<Manifest>(join(ROOT, 'oclif.manifest.json'));
const pjson = readJson<{ version: string; oclif: Record<string, unknown> }>(join(ROOT, 'package.json'));

/** Module key (path from the package root, no extension) -> the file esbuild bundles for it. */
const modules = new Map<string, string>();
const keyOf = (rel: string) => rel.replace(/\.js$/, '');
for (const c of Object.values(manifest.commands))
  if (c.relativePath) modules.set(keyOf(c.relativePath.join('/')), join(ROOT, ...c.relativePath));
modules.set('dist/cli/help', join(DIST, 'cli', 'help.js'));
modules.set('dist/cli/hooks/command-not-found', join(DIST, 'cli', 'hooks', 'command-not-found.js'));

/** The single executable's own manifest: pyrq's commands and those of oclif's plugins, all served from the bundle. */
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

/** The embedded files of the single executable (src/package-files.ts's replacement reads them). */
async function seaFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  files['package.json'] = readFileSync(join(ROOT, 'package.json'), 'utf8');
  for (const name of readdirSync(join(ROOT, 'src', 'redis', 'commands')).filter((f) => f.endsWith('.lua')))
    files[`src/redis/commands/${name}`] = readFileSync(join(ROOT, 'src', 'redis', 'commands', name), 'utf8');
  // The parse worker, bundled on its own: a worker thread started from code (`eval`).
  const worker = await build({
    entryPoints: [join(DIST, 'sources', 'files', 'parse-worker.js')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    // A function around it: code run with `eval` is a script, whose top-level names would
    // be globals (its `crypto` would collide with the global one).
    format: 'iife',
    write: false,
    minifyWhitespace: true,
    plugins: [nodeRequires],
    logLevel: 'error',
  });
  files['parse-worker'] = worker.outputFiles[0]!.text;
  return files;
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
      if (sea)
        b.onResolve({ filter: /[\\/]util[\\/]fs$|^\.\/fs$|^\.\.\/util\/fs$/ }, (args) =>
          args.importer.includes(`${join('@oclif', 'core', 'lib')}`) && args.namespace === 'file'
            ? { path: 'pyrq-bundle:oclif-fs', namespace: 'pyrq-bundle' }
            : undefined,
        );
      if (sea)
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
  if (path === join(process.env.PYRQ_SEA_ROOT ?? '', 'oclif.manifest.json')) return JSON.parse(manifest);
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
            return {
              contents: `const files = ${JSON.stringify(files)};
export function packageText(rel) {
  const text = files[rel];
  if (text === undefined) throw new Error('pyrq: ' + rel + ' is not in this executable');
  return text;
}
export function parseWorkerScript() { return { code: files['parse-worker'] }; }
`,
              resolveDir: ROOT,
            };
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

const npmEntry = `import { execute } from '@oclif/core/execute';
// The package root is found from here (bundle/ is inside it), as from bin/run.js.
await execute({ dir: import.meta.url });
`;

/**
 * The single executable: no package on disk. oclif gets package.json as an object and a
 * root that holds nothing (the executable's directory); the manifest and every module
 * come from the bundle, with oclif's plugins as commands of pyrq's own manifest.
 */
function seaEntry(): string {
  const oclif = { ...pjson.oclif, plugins: [] };
  return `const { dirname } = require('node:path');
const { execute } = require('@oclif/core/execute');
const root = (process.env.PYRQ_SEA_ROOT = dirname(process.execPath));
execute({ loadOptions: { root, pjson: ${JSON.stringify({ ...pjson, oclif })} } });
`;
}

/**
 * The single executable's require() loads built-in modules only, and warns once on any
 * other name; packages probe for optional ones (mysql2 for cardinal, oclif for
 * TypeScript) and do without. This one answers them "not found", as a require() with
 * nothing installed would, without the warning; it never looks on disk.
 */
const SEA_REQUIRE = `require = ((builtin) => { const { isBuiltin } = builtin('node:module'); return Object.assign((id) => { if (isBuiltin(id)) return builtin(id); throw Object.assign(new Error("Cannot find module '" + id + "' (not in this executable)"), { code: 'MODULE_NOT_FOUND' }); }, builtin); })(require);`;

const started = performance.now();
let files: Record<string, string> | undefined;
let seaManifestJson: string | undefined;
if (sea) {
  seaManifestJson = JSON.stringify(seaManifest());
  files = await seaFiles();
}
const outfile = join(outDir, sea ? 'pyrq-sea.cjs' : 'pyrq.mjs');
if (!sea) writeFileSync(join(outDir, 'pyrq-entry.js'), npmEntry);
const result = await build({
  ...(sea
    ? { stdin: { contents: seaEntry(), resolveDir: DIST, sourcefile: 'pyrq-entry.js', loader: 'js' }, outfile }
    : // The package's bundle is split: what \`--help\` needs is one file; each command's
      // modules (and the packages only they use: mysql2, zod, chokidar...) are chunks
      // read when that command runs, so no start parses code it will not run.
      {
        entryPoints: { pyrq: join(outDir, 'pyrq-entry.js') },
        outdir: outDir,
        splitting: true,
        outExtension: { '.js': '.mjs' },
        chunkNames: 'chunks/[name]-[hash]',
      }),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: sea ? 'cjs' : 'esm',
  // Whitespace only: names stay readable in stack traces and error messages.
  minifyWhitespace: true,
  legalComments: 'none',
  // An ESM bundle has no require() for the CommonJS packages' own dynamic requires.
  banner: sea
    ? { js: SEA_REQUIRE }
    : {
        js: "import { createRequire as __pyrqCreateRequire } from 'node:module';\nconst require = __pyrqCreateRequire(import.meta.url);",
      },
  // Optional native or peer modules that the packages probe for and do without; and in
  // the package, pino: its transports (--pretty) start a worker from pino's own files,
  // so it is loaded from node_modules (lazily, as without the bundle). The single
  // executable bundles pino, without --pretty's transport (docs/setup.md).
  external: [
    'pino-pretty',
    'pg-native',
    'cardinal',
    'bufferutil',
    'utf-8-validate',
    'fsevents',
    // oclif reads a tsconfig with TypeScript only when it runs commands from .ts sources.
    'typescript',
    ...(sea ? [] : ['pino']),
  ],
  plugins: [nodeRequires, oclifModules(files, seaManifestJson)],
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile));
if (!sea) rmSync(join(outDir, 'pyrq-entry.js'));
const bytes = readFileSync(outfile).length;
console.info(
  `${relative(process.cwd(), outfile)}: ${(bytes / 1e6).toFixed(2)} MB, ${Object.keys(result.metafile.inputs).length} modules, ${Math.round(performance.now() - started)} ms`,
);
