/** Builds the configured sources (adapters) from the resolved settings. */
import type { Config } from '../src/config/config.js';
import { normalizeContext } from '../src/config/normalize-context.js';
import { PyrqError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import type { Source } from '../src/source.js';
import { FileSource } from '../sources/files/file-source.js';

export interface SourceWiring {
  logger?: Logger;
}

export function sourcesFromConfig(config: Config, _wiring: SourceWiring = {}): Source[] {
  const ctx = normalizeContext(config);
  const sources: Source[] = [];
  if (config.files) sources.push(new FileSource({ dir: config.files.dir, ctx, maxFileBytes: config.files.maxFileBytes }));
  if (sources.length === 0) throw new PyrqError('NO_SOURCES', 'no source is configured: pass --dir PATH (or --mysql-url URL), or set files.dir / mysql.url in the config file');
  return sources;
}
