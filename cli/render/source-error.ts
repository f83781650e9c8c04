/**
 * A source error as the CLI prints it: `formatSourceError`, with the source's name in
 * front when the origin alone does not say which source it is (a SQL row's origin is
 * its table or "query", the same for MySQL and PostgreSQL). Pure.
 */
import { formatSourceError, type SourceError } from '../../src/source.js';

/** Sources whose origins name themselves: a file path, a socket client. */
const SELF_NAMED = new Set(['files', 'socket']);

export function sourceErrorText(e: SourceError): string {
  const text = formatSourceError(e);
  if (SELF_NAMED.has(e.source) || (e.origin ?? '').includes('://')) return text;
  return `${e.source}: ${text}`;
}
