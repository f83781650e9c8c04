/**
 * `pyrq doctor`'s checks: each one looks at one part of the set-up (Redis, a source, the
 * workers, the daemon, …) and reports ok, warn or fail with what to do. A check is a row
 * of the table in `checks.ts`; adding one adds a module and a row.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Keys } from '../redis/keys.js';
import type { Registry } from '../registry/registry.js';
import type { RegistryEntry } from '../registry/registry-port.js';
import type { SourceSnapshot } from '../source.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One finding. `check` names the check (`redis`, `source mysql`, `workers`); `fix` says what to do (warn and fail). */
export interface CheckResult {
  check: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

/** A configured source as read by the doctor (the snapshot, or why it could not even be built). */
export interface SourceRead {
  name: string;
  location?: string;
  snapshot?: SourceSnapshot;
  /** The source could not be set up (a setting it needs is missing). */
  error?: string;
}

/** What checks share: the settings, Redis when it answered, and what was read once for all. */
export interface DoctorContext {
  config: Config;
  /** Local time at the start (epoch ms). */
  now: number;
  keys: Keys;
  /** Undefined when Redis could not be reached (the `redis` check says why). */
  redis?: Redis;
  registry?: Registry;
  /** Every registry entry (empty without Redis). */
  entries: RegistryEntry[];
  /** Each configured source, read as `pyrq diff` reads it. */
  sources: SourceRead[];
}

export interface DoctorCheck {
  /** Stable name (`--json` carries it). */
  readonly name: string;
  /** Skipped when Redis did not answer: the `redis` check has failed already and says why. */
  readonly needsRedis: boolean;
  run(ctx: DoctorContext): Promise<CheckResult[]>;
}

const RANK: Record<CheckStatus, number> = { ok: 0, warn: 1, fail: 2 };

/** The worst status among `results` (ok when there are none). */
export function worstOf(results: readonly CheckResult[]): CheckStatus {
  return results.reduce<CheckStatus>((w, r) => (RANK[r.status] > RANK[w] ? r.status : w), 'ok');
}

/**
 * `pyrq doctor`'s exit code by its worst finding. 3 and 4, because 1 is "the command
 * itself failed" (a bad setting), 2 "changes pending" and 64 a usage error.
 */
export const DOCTOR_EXIT: Record<CheckStatus, number> = { ok: 0, warn: 3, fail: 4 };
