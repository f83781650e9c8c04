/**
 * Settings: flags > environment variables > config file > defaults. The config file is
 * `--config`, else `$PYRQ_CONFIG`, else none (pyrq runs from flags alone). Relative
 * paths inside a config file are relative to that file.
 *
 * This module resolves the settings from a config file already read; reading and
 * validating the file (user input: zod) is `load-config.ts`'s, which the CLI imports only
 * when a config file is named, so a command run without one (`pyrq status`) loads no zod.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PyrqError, redactUrl } from '../errors.js';
import { durationTextMs, parseDuration } from '../model/duration.js';
import { normalizeRetry } from '../model/retry.js';
import { parseListenAddress } from '../http/listen-address.js';
import { didYouMean, timezoneHint } from '../model/suggest.js';
import { isValidTimezone } from '../model/timezone.js';
import { type CatchupPolicy, OVERLAP_POLICIES, type OverlapPolicy } from '../model/schedule-constants.js';
import {
  BTU_GENERATIONS,
  BTU_RUNNERS,
  type BtuGenerationSetting,
  type BtuRunner,
  type Config,
  defaultSocketPath,
  defaultStateDir,
  LOG_LEVELS,
  type SqlSourceConfig,
} from './config.js';
import type { ConfigFile } from './config-schema.js';
import { sqlEntries } from './sql-entries.js';
import { type ConfigFlags, SETTINGS, type Setting, type SettingId } from './settings.js';

export type { ConfigFlags } from './settings.js';

/**
 * A config duration in milliseconds: the schedules' grammar (`durationTextMs`: "90s",
 * "1h30m", "500ms", a number of seconds), any positive time.
 */
export function parseConfigDuration(v: string | number, where: string): number {
  const ms = typeof v === 'number' ? (Number.isFinite(v) ? Math.round(v * 1000) : undefined) : durationTextMs(v);
  if (ms === undefined || ms <= 0)
    throw new PyrqError(
      'CONFIG_INVALID',
      `${where}: ${JSON.stringify(v)} is not a duration (e.g. "5s", "15m", "500ms")`,
    );
  return ms;
}

function readSecretFile(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new PyrqError(
      'CONFIG_INVALID',
      `${where}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** Where a setting's value came from: paths from a config file are relative to the file. */
type Origin = 'flag' | 'env' | 'file';

/** Reads a dotted key (`redis.url`) out of the parsed config file. */
function fileValue(f: ConfigFile, key: string): unknown {
  let v: unknown = f;
  for (const part of key.split('.'))
    v = v === undefined || v === null ? undefined : (v as Record<string, unknown>)[part];
  return v;
}

/** The config file named by `--config` or `$PYRQ_CONFIG` (an absolute path), if any. */
export function configFileOf(flags: ConfigFlags, env: NodeJS.ProcessEnv): string | undefined {
  const file = flags.config ?? env[SETTINGS.config.env];
  return file ? resolve(file) : undefined;
}

/** Reads and validates a config file (`readConfigFile` in `load-config.ts`). */
export type ConfigFileReader = (path: string) => ConfigFile;

/**
 * Resolves every setting, `readFile` reading the config file when one is named (without
 * it, a named file is an error). Throws `PyrqError` (CONFIG_*) naming the file and setting.
 */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, readFile?: ConfigFileReader): Config {
  const configFile = configFileOf(flags, env);
  if (configFile !== undefined && readFile === undefined)
    throw new Error(`resolveConfig: ${configFile} is named but no config file reader was given`);
  const f: ConfigFile = configFile ? readFile!(configFile) : {};
  const where = configFile ?? 'settings';
  const base = configFile ? dirname(configFile) : process.cwd();
  const fromFile = (p: string | undefined) => (p === undefined ? undefined : resolve(base, p));

  /** A setting from the first place that has it: flag > environment > config file (no default). */
  const given = (id: SettingId): { value: unknown; origin: Origin } | undefined => {
    const s: Setting = SETTINGS[id];
    const flag = s.name !== undefined ? flags[s.name] : undefined;
    if (flag !== undefined) return { value: flag, origin: 'flag' };
    // An empty variable is unset (`PYRQ_DIR=` must not mean the current directory).
    const fromEnv = s.env !== undefined ? env[s.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, origin: 'env' };
    const inFile = s.key !== undefined ? fileValue(f, s.key) : undefined;
    return inFile !== undefined ? { value: inFile, origin: 'file' } : undefined;
  };
  /** The value, else the table's default. */
  const value = <T>(id: SettingId): T => (given(id)?.value ?? (SETTINGS[id] as Setting).default) as T;
  /** A path: relative to the config file when it came from there. */
  const path = (id: SettingId): string | undefined => {
    const g = given(id);
    if (g === undefined) return undefined;
    return g.origin === 'file' ? fromFile(g.value as string) : (g.value as string);
  };
  /** A duration in ms, given or the table's default; errors name the setting. */
  const duration = (id: SettingId): number =>
    parseConfigDuration(value<string | number>(id), `${where}: ${(SETTINGS[id] as Setting).key}`);
  const optionalDuration = (id: SettingId): number | undefined => (given(id) === undefined ? undefined : duration(id));

  const timezone = value<string>('timezone');
  if (!isValidTimezone(timezone))
    throw new PyrqError(
      'CONFIG_INVALID',
      `${where}: timezone: unknown timezone ${JSON.stringify(timezone)} (${timezoneHint(timezone)})`,
    );

  const dirPath = path('files.dir');
  const dir = dirPath !== undefined ? resolve(dirPath) : undefined;
  /**
   * One SQL source section (`mysql`, `postgres`): present when it has a URL or a host.
   * The password comes from `passwordFile`, else the variable `passwordEnv` names
   * (default `PYRQ_<SECTION>_PASSWORD`); a password in the URL wins over both.
   */
  const sqlSection = (n: 'mysql' | 'postgres'): SqlSourceConfig | undefined => {
    const url = value<string | undefined>(`${n}.url`);
    const sec = f[n];
    if (url === undefined && sec?.host === undefined) return undefined;
    const passwordEnv = value<string>(`${n}.passwordEnv`);
    const password = sec?.passwordFile
      ? readSecretFile(fromFile(sec.passwordFile)!, `${where}: ${n}.passwordFile`)
      : env[passwordEnv];
    const cfg: SqlSourceConfig = {
      url,
      host: sec?.host,
      port: sec?.port,
      user: sec?.user,
      database: sec?.database,
      password,
      mode: value<'btu' | 'query'>(`${n}.mode`),
      query: sec?.query,
      pollIntervalMs: duration(`${n}.pollInterval`),
      site: sec?.site,
    };
    if (cfg.mode === 'query' && !cfg.query)
      throw new PyrqError('CONFIG_INVALID', `${where}: ${n}.query: required when ${n}.mode is "query"`);
    return cfg;
  };
  const mysql = sqlSection('mysql');
  const postgres = sqlSection('postgres');
  const sql = sqlEntries(f.sql, {
    where,
    env,
    legacy: [...(mysql ? ['mysql'] : []), ...(postgres ? ['postgres'] : [])],
    defaultPollMs: parseConfigDuration(SETTINGS['mysql.pollInterval'].default as string, 'sql.pollInterval'),
    parseDuration: parseConfigDuration,
    readSecret: (p, w) => readSecretFile(fromFile(p)!, w),
  });

  const socketModeText = value<string>('daemon.socketMode');
  if (!/^0?[0-7]{3}$/.test(socketModeText))
    throw new PyrqError(
      'CONFIG_INVALID',
      `${where}: daemon.socketMode: ${JSON.stringify(socketModeText)} is not an octal mode such as "0660"`,
    );
  const socketMode = parseInt(socketModeText, 8);
  if (socketMode & 0o002)
    throw new PyrqError(
      'CONFIG_INVALID',
      `${where}: daemon.socketMode: ${socketModeText} would make the socket world-writable; use 0660 or stricter`,
    );
  const redisPassword = f.redis?.passwordFile
    ? readSecretFile(fromFile(f.redis.passwordFile)!, `${where}: redis.passwordFile`)
    : f.redis?.password;
  const redisUrl = value<string>('redis.url');
  // ioredis reads anything else as a host or a Unix socket path ("http://h:1" became `connect ENOENT //h:1`).
  if (!f.redis?.sentinels?.length && !/^(rediss?:\/\/|\/)/i.test(redisUrl)) {
    const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(redisUrl)?.[1];
    throw new PyrqError(
      'CONFIG_INVALID',
      `redis.url (--redis-url, PYRQ_REDIS_URL): ${JSON.stringify(redactUrl(redisUrl))} ${scheme ? `has the scheme ${JSON.stringify(scheme)}` : 'is not a URL'}; use redis://host:6379/0 (rediss:// for TLS; a user and password before the host for ACL users; or the path of a Unix socket)`,
    );
  }
  const t = f.redis?.tls;
  const tls = t ? { ca: fromFile(t.ca), cert: fromFile(t.cert), key: fromFile(t.key) } : undefined;
  if (t) {
    // Say so rather than connect in plain text, or half-configure a client certificate.
    if (f.redis?.sentinels?.length)
      throw new PyrqError(
        'CONFIG_INVALID',
        `${where}: redis.tls: TLS through Sentinel is not supported; use redis.url with rediss://`,
      );
    if (!/^rediss:\/\//i.test(redisUrl))
      throw new PyrqError(
        'CONFIG_INVALID',
        `${where}: redis.tls is set but the Redis URL ${JSON.stringify(redactUrl(redisUrl))} is not rediss://`,
      );
    if ((t.cert === undefined) !== (t.key === undefined))
      throw new PyrqError(
        'CONFIG_INVALID',
        `${where}: redis.tls: cert and key go together (a client certificate needs its key)`,
      );
  }
  const startingDeadlineMs = optionalDuration('dispatch.startingDeadline');
  const alertAfterMs = optionalDuration('dispatch.alertAfter');
  /** A setting that is one of `allowed` (the file's schema checks it there; flags and env are text). */
  const oneOf = <T extends string>(id: SettingId, allowed: readonly T[]): T => {
    const v = value<unknown>(id);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      const s: Setting = SETTINGS[id];
      throw new PyrqError(
        'CONFIG_INVALID',
        `${where}: ${s.key}${s.env ? ` (or ${s.env}${s.flag ? `, --${s.flag}` : ''})` : ''}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}${typeof v === 'string' ? didYouMean(v, allowed) : ''}`,
      );
    }
    return v as T;
  };
  /** A boolean setting: true/false in the file, true/false/1/0/yes/no/on/off in the environment. */
  const bool = (id: SettingId): boolean => {
    const v = value<unknown>(id);
    if (typeof v === 'boolean') return v;
    const t = String(v).trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return true;
    if (['false', '0', 'no', 'off'].includes(t)) return false;
    const s: Setting = SETTINGS[id];
    throw new PyrqError(
      'CONFIG_INVALID',
      `${where}: ${s.key}${s.env ? ` (or ${s.env})` : ''}: ${JSON.stringify(v)} is not true or false`,
    );
  };
  const http = httpSettings(
    value<string | undefined>('http.listen'),
    value<string | undefined>('http.token'),
    path('http.tokenFile'),
    where,
  );

  return {
    configFile,
    timezone,
    allow: f.allow,
    redis: {
      url: redisUrl,
      prefix: value<string>('redis.prefix'),
      sentinels: f.redis?.sentinels,
      name: f.redis?.name,
      password: redisPassword,
      tls,
    },
    files:
      dir !== undefined
        ? { dir, maxFileBytes: f.files?.maxFileBytes, followSymlinksOutside: f.files?.followSymlinksOutside }
        : undefined,
    mysql,
    postgres,
    ...(sql ? { sql } : {}),
    frappe: {
      site: value<string | undefined>('frappe.site') ?? mysql?.site ?? postgres?.site,
      benchId: value<string | undefined>('frappe.benchId'),
      benchPath: path('frappe.benchPath'),
      user: value<string>('frappe.user'),
    },
    btu: {
      rpc: bool('btu.rpc'),
      runner: oneOf<BtuRunner>('btu.runner', BTU_RUNNERS),
      overlap: oneOf<OverlapPolicy>('btu.overlap', OVERLAP_POLICIES),
      generation: oneOf<BtuGenerationSetting>('btu.generation', BTU_GENERATIONS),
      user: value<string | undefined>('btu.user'),
    },
    dispatch: {
      catchup: value<CatchupPolicy>('dispatch.catchup'),
      startingDeadline: startingDeadlineMs !== undefined ? Math.round(startingDeadlineMs / 1000) : undefined,
      failAfter: value<number | undefined>('dispatch.failAfter'),
      alertAfter: alertAfterMs !== undefined ? Math.max(1, Math.round(alertAfterMs / 1000)) : undefined,
      overlap: value<OverlapPolicy>('dispatch.overlap'),
      historyLength: value<number>('dispatch.historyLength'),
      batchSize: value<number>('dispatch.batchSize'),
      graceMs: duration('dispatch.grace'),
      ...retryAndJitter(f.dispatch, where),
    },
    daemon: {
      socket: path('daemon.socket') ?? defaultSocketPath(env),
      socketMode,
      socketGroup: f.daemon?.socketGroup,
      stateDir: path('daemon.stateDir') ?? defaultStateDir(env),
      resyncIntervalMs: duration('daemon.resyncInterval'),
      leaseTtlMs: duration('daemon.leaseTtl'),
      clockOffsetWarnMs: duration('daemon.clockOffsetWarn'),
      clientTimeoutMs: duration('daemon.clientTimeout'),
    },
    log: {
      // Checked here, so `--log-level verbose` is a clear error on every command, not pino's crash in the daemon.
      level: oneOf('log.level', LOG_LEVELS),
      file: path('log.file'),
      pretty: value<boolean>('log.pretty'),
    },
    ...(http ? { http } : {}),
  };
}

/** The HTTP listener: off without an address; the token from the setting or its file (a missing file is an error). */
/**
 * `dispatch.retry` and `dispatch.jitter` (config file only), checked as the schedule
 * fields are: a default no schedule could hold is refused here, not on every schedule.
 */
function retryAndJitter(d: ConfigFile['dispatch'], where: string): Pick<Config['dispatch'], 'retry' | 'jitter'> {
  const out: Pick<Config['dispatch'], 'retry' | 'jitter'> = {};
  if (d?.retry !== undefined && d.retry !== 0) {
    const r = normalizeRetry(d.retry);
    if (!r.ok)
      throw new PyrqError('CONFIG_INVALID', `${where}: ${r.issues.map(([p, m]) => `dispatch.${p}: ${m}`).join('; ')}`);
    out.retry = r.value;
  }
  if (d?.jitter !== undefined && d.jitter !== 0 && d.jitter !== '0') {
    const j = parseDuration(d.jitter);
    if (typeof j !== 'number') throw new PyrqError('CONFIG_INVALID', `${where}: dispatch.jitter: ${j.reason}`);
    out.jitter = j;
  }
  return out;
}

function httpSettings(
  listen: string | undefined,
  token: string | undefined,
  tokenFile: string | undefined,
  where: string,
): Config['http'] {
  if (listen === undefined || listen === '') return undefined;
  const addr = parseListenAddress(String(listen));
  if ('error' in addr) throw new PyrqError('CONFIG_INVALID', `${where}: http.listen: ${addr.error}`);
  const secret = tokenFile !== undefined ? readSecretFile(tokenFile, `${where}: http.tokenFile`).trim() : token;
  if (secret !== undefined && secret.length === 0)
    throw new PyrqError(
      'CONFIG_INVALID',
      `${where}: ${tokenFile !== undefined ? `http.tokenFile: ${tokenFile} is empty` : 'http.token is empty'}`,
    );
  return { ...addr, ...(secret !== undefined ? { token: secret } : {}) };
}
