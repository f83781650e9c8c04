/**
 * Which BTU app wrote the tables: the 2024 app (Datahenge/btu `version-15`) or the 2025-26
 * one. The two disagree on what a row's `cron_string` means, so every rule that depends
 * on it asks this module. Pure: column sets in, a generation and the reason out.
 *
 * How they differ (BTU's own code):
 * - 2024: `btu_task_schedule.py` `schedule_to_cron_string` converts the entered hour and
 *   minute of Hourly/Daily/Weekly/Monthly/Yearly rows to UTC before it stores them; only
 *   "Cron Style" strings are local time. The schedule has no `cron_timezone` column, and
 *   the app has no `task_runner.run_task_by_id`.
 * - 2025-26: the schedule has `cron_timezone`; the controller stores every frequency's
 *   string in local time and btu_scheduler's `sql.get_task_schedule_by_id` reads it in
 *   `COALESCE(NULLIF(cron_timezone, ''), BTU Configuration.cron_time_zone)`, never
 *   looking at `run_frequency` (`btu_cron.tz_cron_to_utc_datetimes`).
 *
 * So the schema answers: a Task Schedule table with `cron_timezone` is 2025-26.
 */
import type { BtuGenerationSetting } from '../../src/config/config.js';

export type BtuGeneration = '2024' | '2025';

export interface DetectedGeneration {
  generation: BtuGeneration;
  /** Why, for the start line and `status`: "detected: ..." or "set by btu.generation". */
  reason: string;
}

/** What BTU's generation decides for a row. */
export const GENERATION_LABEL: Record<BtuGeneration, string> = {
  '2024': 'BTU 2024 (version-15 app)',
  '2025': 'BTU 2025-26',
};

export function detectBtuGeneration(
  scheduleColumns: ReadonlySet<string>,
  setting: BtuGenerationSetting = 'auto',
): DetectedGeneration {
  if (setting !== 'auto') return { generation: setting, reason: `set by btu.generation (${setting})` };
  if (scheduleColumns.has('cron_timezone'))
    return {
      generation: '2025',
      reason: 'detected: tabBTU Task Schedule has a cron_timezone column',
    };
  return {
    generation: '2024',
    reason: 'detected: tabBTU Task Schedule has no cron_timezone column',
  };
}

/** `GENERATION_LABEL` with the reason: "BTU 2025-26 (detected: ...)". */
export function describeGeneration(d: DetectedGeneration): string {
  return `${GENERATION_LABEL[d.generation]} (${d.reason})`;
}
