/**
 * Settings: flags > environment variables > config file > defaults (`resolve-config.ts`),
 * with the config file read and validated here: its zod schema (`config-schema.ts`) is
 * loaded only with this module, which the CLI imports only when a config file is named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PyrqError } from '../errors.js';
import { fromZodIssues, issueText, knownKeysAt } from '../model/issues.js';
import type { Config } from './config.js';
import { type ConfigFile, configFileSchema } from './config-schema.js';
import { resolveConfig } from './resolve-config.js';
import type { ConfigFlags } from './settings.js';

const lazyRequire = createRequire(import.meta.url);

export type { ConfigFlags } from './settings.js';
export { parseConfigDuration } from './resolve-config.js';

/** Reads and validates a config file (TOML, YAML or JSON). Throws `PyrqError` (CONFIG_*). */
export function readConfigFile(path: string): ConfigFile {
  if (!existsSync(path)) throw new PyrqError('CONFIG_NOT_FOUND', `${path}: config file not found`);
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    // The parsers are loaded only when a config file is read (CLI start-up time).
    raw = /\.ya?ml$/i.test(path)
      ? (lazyRequire('yaml') as typeof import('yaml')).parse(text)
      : /\.json$/i.test(path)
        ? JSON.parse(text)
        : (lazyRequire('@iarna/toml') as typeof import('@iarna/toml')).parse(text);
  } catch (e) {
    throw new PyrqError('CONFIG_INVALID', `${path}: cannot parse: ${String((e as Error).message).split('\n')[0]}`);
  }
  const schema = configFileSchema();
  const r = schema.safeParse(raw ?? {}, { reportInput: true });
  if (!r.success) {
    const issues = fromZodIssues(r.error.issues, (p) => knownKeysAt(schema, p));
    throw new PyrqError('CONFIG_INVALID', `${path}: ${issues.map(issueText).join('; ')}`);
  }
  return r.data;
}

/** Resolves every setting. Throws `PyrqError` (CONFIG_*) naming the file and setting. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  return resolveConfig(flags, env, readConfigFile);
}
