/**
 * zod shapes of values people write in more than one schedule field, shared by the
 * schedule schema and the trigger kinds that take such a value.
 */
import { z } from 'zod';

/**
 * A timestamp as written: an ISO 8601 string, or a native TOML datetime (a Date). The
 * JSON Schema shows it as a string (`json-schema.ts` knows it by identity), and a wrong
 * type is reported as "expected an ISO 8601 timestamp string" (`issues.ts` knows it by
 * its Date branch).
 */
export const timestampInput = z.union([z.string(), z.date()]);

/** A duration as written: "90s", "1h30m", ... or a whole number of seconds (`duration.ts`). */
export const durationInput = z.union([z.string(), z.number().int()]);
