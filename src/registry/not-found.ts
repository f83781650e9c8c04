/**
 * The NOT_FOUND error for schedule ids that are not in the registry, with the closest
 * applied id when one is close (`nightly-invoice` -> "did you mean "nightly-invoices"?").
 * Used by `status`, `history`, `next` and `trigger`; only read on that error path.
 */
import { PyrqError } from '../errors.js';
import { suggest } from '../model/suggest.js';
import type { RegistryPort } from './registry-port.js';

export async function scheduleNotFound(
  registry: Pick<RegistryPort, 'readIndex'>,
  ids: readonly string[],
): Promise<PyrqError> {
  return notFoundAmong(ids, [...(await registry.readIndex()).keys()]);
}

/** The same, given the ids that do exist. */
export function notFoundAmong(ids: readonly string[], known: readonly string[]): PyrqError {
  const names = ids.map((id) => {
    const s = id.length <= 200 ? suggest(id, known) : undefined;
    return `"${id}"${s !== undefined ? ` (did you mean "${s}"?)` : ''}`;
  });
  return new PyrqError('NOT_FOUND', `no schedule ${names.join(', ')} in the registry (pyrq status lists them all)`);
}
