/**
 * The patterns and policy lists of the schedule model (`schedule-schema.ts` builds its
 * zod schemas from them). Apart from the schema so that what reads stored schedules and
 * settings (`pyrq status`) does not load zod.
 */

/** Schedule ids: also used in Redis keys and (escaped) in RQ job ids. */
export const ID_RE = /^[A-Za-z0-9_.-]{1,200}$/;
/** A dotted Python path to a module-level callable: `package.module.function`. */
export const PY_IDENT = '[A-Za-z_][A-Za-z0-9_]*';
export const FUNCTION_RE = new RegExp(`^${PY_IDENT}(\\.${PY_IDENT})+$`);
/** RQ queue names become Redis keys (`rq:queue:<name>`); keep them to a safe alphabet. */
export const QUEUE_RE = /^[A-Za-z0-9_.:-]{1,100}$/;

export const TARGETS = ['rq', 'frappe'] as const;
export const CATCHUP_POLICIES = ['skip', 'latest', 'all'] as const;
export const OVERLAP_POLICIES = ['allow', 'forbid', 'buffer-one', 'replace'] as const;

export type Target = (typeof TARGETS)[number];
export type CatchupPolicy = (typeof CATCHUP_POLICIES)[number];
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** More retries than this is a loop, not a retry policy. */
export const MAX_RETRIES = 100;
