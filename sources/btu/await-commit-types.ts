/** The part of a reconcile's result the BTU command handling reads (its plan's errors). */
import type { SourceError } from '../../src/source.js';

export interface ReconcileResultLike {
  plan: { errors: readonly SourceError[] };
}
