/**
 * The resolved configuration: every setting with its final value. Built by
 * `loadConfig` from flags > environment > config file > defaults (the defaults, like
 * every setting's flag and environment variable, are in `settings.ts`).
 */
import type { Retry } from '../model/retry.js';
import type { CatchupPolicy, OverlapPolicy } from '../model/schedule-schema.js';

export interface RedisConfig {
  url: string;
  prefix: string;
  sentinels?: { host: string; port: number }[];
  name?: string;
  password?: string;
  /** TLS files (absolute paths) for a `rediss://` URL; read when connecting, never logged. */
  tls?: { ca?: string; cert?: string; key?: string };
}

/** A polled SQL source (`mysql` or `postgres` section): where it connects and what it reads. */
export interface SqlSourceConfig {
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  /** Resolved from passwordEnv / passwordFile / the URL. Never logged. */
  password?: string;
  mode: 'btu' | 'query';
  query?: string;
  pollIntervalMs: number;
  site?: string;
}

/**
 * One `[[sql]]` entry: a SQL source with its own name (the registry owner), driver,
 * Frappe site and bench id. `idPrefix` (`site1.`) namespaces its ids when the config has
 * more than one SQL source; '' keeps the rows' own ids.
 */
export interface NamedSqlSourceConfig extends SqlSourceConfig {
  name: string;
  driver: 'mysql' | 'postgres';
  benchId?: string;
  idPrefix: string;
}

export type MysqlConfig = SqlSourceConfig;
export type PostgresConfig = SqlSourceConfig;

/** `task-runner`: BTU's `run_task_by_id` (Task Log, e-mails); `direct`: the task's function_string. */
export type BtuRunner = 'auto' | 'task-runner' | 'direct';
export const BTU_RUNNERS = ['auto', 'task-runner', 'direct'] as const;
/** Which BTU app the tables belong to (`btu.generation`): detected from the schema, or forced. */
export type BtuGenerationSetting = 'auto' | '2024' | '2025';
export const BTU_GENERATIONS = ['auto', '2024', '2025'] as const;

/** pino's levels, and `silent`: what `log.level` and `--log-level` accept. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface Config {
  /** The file the settings were read from, if any. */
  configFile?: string;
  timezone: string;
  allow?: string[];
  redis: RedisConfig;
  files?: { dir: string; maxFileBytes?: number; followSymlinksOutside?: boolean };
  mysql?: MysqlConfig;
  postgres?: PostgresConfig;
  /** `[[sql]]`: more SQL sources, each its own source (one per site of a bench). */
  sql?: NamedSqlSourceConfig[];
  frappe: { site?: string; benchId?: string; benchPath?: string; user: string };
  /** The BTU app: its Redis RPC channel and how its rows run. */
  btu: { rpc: boolean; runner: BtuRunner; overlap: OverlapPolicy; generation: BtuGenerationSetting; user?: string };
  dispatch: {
    catchup: CatchupPolicy;
    startingDeadline?: number;
    /** Defaults of the schedule fields `failAfter` (count) and `alertAfter` (seconds), when set. */
    failAfter?: number;
    alertAfter?: number;
    overlap: OverlapPolicy;
    historyLength: number;
    batchSize: number;
    /** An occurrence at most this late is on time, not missed (ms). */
    graceMs: number;
    /** `dispatch.retry`, normalised: the default of schedules without `retry`. */
    retry?: Retry;
    /** `dispatch.jitter` in whole seconds: the default of schedules without `jitter`. */
    jitter?: number;
  };
  daemon: {
    socket: string;
    socketMode: number;
    socketGroup?: string;
    /** Where the daemon mirrors pushed schedules and pauses (src/state/). */
    stateDir: string;
    resyncIntervalMs: number;
    leaseTtlMs: number;
    clientTimeoutMs: number;
    clockOffsetWarnMs: number;
  };
  log: { level: string; file?: string; pretty: boolean };
  /** The HTTP listener (`--http`): absent when off. The token is a secret: never logged. */
  http?: { host: string; port: number; token?: string };
}

/** Every secret in the settings, for redaction from logs and messages. */
export function configSecrets(
  c: (Pick<Config, 'redis' | 'mysql' | 'postgres'> & Partial<Pick<Config, 'http' | 'sql'>>) | undefined,
): string[] {
  return [
    c?.redis.password,
    c?.mysql?.password,
    c?.postgres?.password,
    c?.http?.token,
    ...(c?.sql ?? []).map((s) => s.password),
  ].filter((x): x is string => !!x);
}

/**
 * The daemon's state directory: systemd's (`StateDirectory=` sets $STATE_DIRECTORY, a
 * colon-separated list: the first), /var/lib/pyrq for root, else the user's XDG state home.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv, uid = process.getuid?.() ?? 0): string {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  if (uid === 0) return '/var/lib/pyrq';
  const base = env.XDG_STATE_HOME || `${env.HOME || '/tmp'}/.local/state`;
  return `${base}/pyrq`;
}

/** `/run/pyrq/pyrq.sock` for root (systemd's RuntimeDirectory); a per-user path otherwise. */
export function defaultSocketPath(env: NodeJS.ProcessEnv, uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return '/run/pyrq/pyrq.sock';
  if (env.XDG_RUNTIME_DIR) return `${env.XDG_RUNTIME_DIR}/pyrq/pyrq.sock`;
  return `/tmp/pyrq-${uid}/pyrq.sock`;
}
