/**
 * The value of an entry in the index HASH (`pyrq:index`, id -> value): the spec hash, the
 * owning source and the origin in it, separated by tabs, so that one HGETALL answers
 * "what is applied, and who owns it" without reading a single schedule.
 *
 * Every TypeScript reader decodes it here. `apply-changes.lua` builds the same value on
 * the Redis side (`hash .. '\t' .. source .. '\t' .. origin`) and reads the hash back
 * as the text before the first tab; a source name cannot hold a tab, an origin (a file
 * path) may, which is why the origin comes last. Pure.
 */

export interface IndexValue {
  hash: string;
  source: string;
  origin: string;
}

const SEP = '\t';

export function encodeIndexValue(v: IndexValue): string {
  return `${v.hash}${SEP}${v.source}${SEP}${v.origin}`;
}

export function decodeIndexValue(v: string): IndexValue {
  const a = v.indexOf(SEP);
  const b = v.indexOf(SEP, a + 1);
  return { hash: v.slice(0, a), source: v.slice(a + 1, b), origin: v.slice(b + 1) };
}

/** Just the spec hash of a stored value (the dispatcher's staleness check: no object per id). */
export function indexValueHash(v: string): string {
  return v.slice(0, v.indexOf(SEP));
}
