/**
 * Sources as the one-writer rule compares them (src/registry/source-owner.ts): the
 * daemon records its own this way, and `apply`/`tick` describe theirs this way.
 */
import { hostname } from 'node:os';
import { type OwnedSource, ownedSource } from '../src/registry/source-owner.js';
import type { Source } from '../src/source.js';
import { FILE_SOURCE } from '../sources/files/file-source.js';

/** Each source with where it reads; a directory is this host's. */
export function ownedSourcesOf(sources: readonly Source[], host: string = hostname()): OwnedSource[] {
  return sources.map((s) => ownedSource(s.name, s.location, host, s.name === FILE_SOURCE));
}
