/**
 * The spec hash: a stable digest of the normalised schedule (Backstage's
 * generateStableHash). "Did this schedule change?" is one string comparison, and an
 * unchanged event is dropped before it costs a Redis write.
 */
import { sha256Hex, stableHash } from '../canonical-json.js';
import type { Schedule } from './schedule-schema.js';

/** 16 hex digits (64 bits): hashes are only ever compared between versions of one id. */
export function specHash(schedule: Schedule): string {
  return stableHash(schedule).slice(0, 16);
}

/**
 * The spec hash of a stored spec text, read as the canonical JSON pyrq writes
 * (`canonicalStringify(spec)`): equal to `specHash(spec)` exactly when the text is that
 * spec's canonical form, so an unaltered stored spec is recognised without parsing it.
 */
export function specHashOfText(canonicalJson: string): string {
  return sha256Hex(canonicalJson).slice(0, 16);
}
