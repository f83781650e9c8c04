/**
 * The spec hash: a stable digest of the normalised schedule (Backstage's
 * generateStableHash). "Did this schedule change?" is one string comparison, and an
 * unchanged event is dropped before it costs a Redis write.
 */
import { stableHash } from '../canonical-json.js';
import type { Schedule } from './schedule-schema.js';

/** 16 hex digits (64 bits): hashes are only ever compared between versions of one id. */
export function specHash(schedule: Schedule): string {
  return stableHash(schedule).slice(0, 16);
}
