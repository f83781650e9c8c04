/**
 * The flags commands share, in groups, so each command lists only the flags it uses and
 * a flag means the same everywhere. Flags for settings are made from the table of
 * settings (`src/config/settings.ts`): their help shows the environment variable and
 * the default from there, and `BaseCommand.loadSettings` passes them to `loadConfig`,
 * which alone reads the environment (oclif's own `env` option would read it a second
 * time, in a second place).
 */
import * as Flags from '@oclif/core/flags';
import { SETTINGS, type Setting, type SettingId, settingLabel } from '../src/config/settings.js';

/** A string flag for a setting of the table, with `[default: …, env: …]` in its help. */
function settingFlag(id: SettingId, opts: { summary?: string; helpGroup?: string; hidden?: boolean } = {}) {
  const s: Setting = SETTINGS[id];
  const label = settingLabel(s);
  const summary = opts.summary ?? s.description;
  return Flags.string({
    char: s.char,
    summary: label ? `${label} ${summary}` : summary,
    helpGroup: opts.helpGroup,
    hidden: opts.hidden,
  });
}

/** The level of one-shot commands' log lines when `--log-level` is not given. */
export const ONE_SHOT_LOG_LEVEL = 'error';

/** On every command. */
export const globalFlags = {
  config: settingFlag('config', { helpGroup: 'GLOBAL' }),
  // One-shot commands log to stderr, quietly unless asked: PYRQ_LOG_LEVEL and log.level
  // are the daemon's (see daemonFlags), so they do not make `pyrq diff` chatty.
  'log-level': Flags.string({
    summary: `[default: ${ONE_SHOT_LOG_LEVEL}] Level of log lines on stderr: trace, debug, info, warn, error, silent.`,
    helpGroup: 'GLOBAL',
  }),
};

/** Commands that talk to Redis. */
export const redisFlags = {
  'redis-url': settingFlag('redis.url', { helpGroup: 'REDIS' }),
  prefix: settingFlag('redis.prefix', { helpGroup: 'REDIS' }),
};

/**
 * The Redis flags, accepted but hidden, on commands that do not use Redis (validate,
 * push, reconcile): scripts that pass `--redis-url` to every pyrq command keep working.
 */
export const ignoredRedisFlags = {
  'redis-url': settingFlag('redis.url', { hidden: true }),
  prefix: settingFlag('redis.prefix', { hidden: true }),
};

/**
 * Commands that read the sources (apply, diff, daemon, validate): the same flags
 * everywhere. Keys are flag names; `source` is the source each one configures.
 */
export const sourceFlags = {
  dir: settingFlag('files.dir', { helpGroup: 'SOURCE' }),
  'mysql-url': settingFlag('mysql.url', { helpGroup: 'SOURCE' }),
  'postgres-url': settingFlag('postgres.url', { helpGroup: 'SOURCE' }),
};

/** Which source each source flag configures (for `validate PATH... --dir D`). */
export const SOURCE_OF_FLAG: Record<keyof typeof sourceFlags, string> = {
  dir: 'files',
  'mysql-url': 'mysql',
  'postgres-url': 'postgres',
};

/** Commands that turn schedules into Frappe jobs or BTU rows into schedules (apply, diff, daemon). */
export const frappeFlags = {
  'frappe-site': settingFlag('frappe.site', { helpGroup: 'FRAPPE' }),
  'frappe-bench-id': settingFlag('frappe.benchId', { helpGroup: 'FRAPPE' }),
};

/** Commands that talk to the daemon over its control socket (and the daemon itself). */
export const socketFlags = {
  socket: settingFlag('daemon.socket'),
};

/** The daemon's state directory (pushed schedules and pauses survive a Redis that restarts empty). */
export const stateFlags = {
  'state-dir': settingFlag('daemon.stateDir'),
};

/** The daemon's logging: here the log level is the `log.level` setting. */
export const daemonLogFlags = {
  'log-level': settingFlag('log.level', { helpGroup: 'GLOBAL' }),
  'log-file': settingFlag('log.file'),
  pretty: Flags.boolean({ summary: `${settingLabel(SETTINGS['log.pretty'])} ${SETTINGS['log.pretty'].description}` }),
};

/** `--count`/`-n`: "how many", on every command that has it. */
export function countFlag(summary: string, defaultCount: number, opts: { max?: number; aliases?: string[] } = {}) {
  return Flags.integer({
    char: 'n',
    summary,
    default: defaultCount,
    min: 1,
    max: opts.max,
    aliases: opts.aliases,
    deprecateAliases: opts.aliases !== undefined,
  });
}

/** The daemon's HTTP listener (metrics, health, status page). */
export const httpFlags = {
  http: settingFlag('http.listen'),
};
