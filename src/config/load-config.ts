/**
 * Settings: flags > environment variables > config file > defaults. The config file is
 * `--config`, else `$PYRQ_CONFIG`, else none (pyrq runs from flags alone). Relative
 * paths inside a config file are relative to that file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import TOML from '@iarna/toml';
import YAML from 'yaml';
import { PyrqError, redactUrl } from '../errors.js';
import { fromZodIssues, issueText, knownKeysAt } from '../model/issues.js';
import { isValidTimezone } from '../model/timezone.js';
import { type Config, DEFAULTS, defaultSocketPath, type SqlSourceConfig } from './config.js';
import { type ConfigFile, configFileSchema } from './config-schema.js';

/** Settings given as command-line flags (undefined = not given). */
export interface ConfigFlags {
  config?: string;
  redisUrl?: string;
  prefix?: string;
  dir?: string;
  mysqlUrl?: string;
  postgresUrl?: string;
  socket?: string;
  timezone?: string;
  logLevel?: string;
  logFile?: string;
  pretty?: boolean;
}

/** The environment variables pyrq reads, for `--help` and README. */
export const ENV_VARS = {
  PYRQ_CONFIG: 'config file path',
  PYRQ_REDIS_URL: 'redis.url',
  PYRQ_PREFIX: 'redis.prefix',
  PYRQ_TIMEZONE: 'timezone',
  PYRQ_DIR: 'files.dir',
  PYRQ_MYSQL_URL: 'mysql.url',
  PYRQ_MYSQL_PASSWORD: 'MySQL password (default for mysql.passwordEnv)',
  PYRQ_POSTGRES_URL: 'postgres.url',
  PYRQ_POSTGRES_PASSWORD: 'PostgreSQL password (default for postgres.passwordEnv)',
  PYRQ_SOCKET: 'daemon.socket',
  PYRQ_LOG_LEVEL: 'log.level',
  PYRQ_LOG_FILE: 'log.file',
  PYRQ_FRAPPE_SITE: 'frappe.site',
  PYRQ_FRAPPE_BENCH_ID: 'frappe.benchId',
} as const;

/** "90s", "15m", "500ms", "1h", or a number of seconds -> milliseconds. */
export function parseConfigDuration(v: string | number, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.round(v * 1000);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(String(v).trim());
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  if (!m || Number(m[1]) <= 0) throw new PyrqError('CONFIG_INVALID', `${where}: ${JSON.stringify(v)} is not a duration (e.g. "5s", "15m", "500ms")`);
  return Math.round(Number(m[1]) * unit[m[2] ?? 's']!);
}

function readConfigFile(path: string): ConfigFile {
  if (!existsSync(path)) throw new PyrqError('CONFIG_NOT_FOUND', `${path}: config file not found`);
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(path) ? YAML.parse(text) : /\.json$/i.test(path) ? JSON.parse(text) : TOML.parse(text);
  } catch (e) {
    throw new PyrqError('CONFIG_INVALID', `${path}: cannot parse: ${String((e as Error).message).split('\n')[0]}`);
  }
  const r = configFileSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!r.success) {
    const issues = fromZodIssues(r.error.issues, (p) => knownKeysAt(configFileSchema, p));
    throw new PyrqError('CONFIG_INVALID', `${path}: ${issues.map(issueText).join('; ')}`);
  }
  return r.data;
}

function readSecretFile(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new PyrqError('CONFIG_INVALID', `${where}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * One SQL source section (`mysql`, `postgres`): present when it has a URL or a host. The
 * password comes from `passwordFile`, else the variable `passwordEnv` names (default
 * `PYRQ_<SECTION>_PASSWORD`); a password in the URL wins over both (see sql-target.ts).
 */
function sqlSection(
  name: 'mysql' | 'postgres',
  url: string | undefined,
  s: ConfigFile['mysql'],
  defaultPollMs: number,
  env: NodeJS.ProcessEnv,
  where: string,
  fromFile: (p: string | undefined) => string | undefined,
): SqlSourceConfig | undefined {
  if (url === undefined && s?.host === undefined) return undefined;
  const passwordEnv = s?.passwordEnv ?? `PYRQ_${name.toUpperCase()}_PASSWORD`;
  const password = s?.passwordFile ? readSecretFile(fromFile(s.passwordFile)!, `${where}: ${name}.passwordFile`) : env[passwordEnv];
  const cfg: SqlSourceConfig = {
    url,
    host: s?.host,
    port: s?.port,
    user: s?.user,
    database: s?.database,
    password,
    mode: s?.mode ?? 'btu',
    query: s?.query,
    pollIntervalMs: s?.pollInterval !== undefined ? parseConfigDuration(s.pollInterval, `${where}: ${name}.pollInterval`) : defaultPollMs,
    site: s?.site,
  };
  if (cfg.mode === 'query' && !cfg.query) throw new PyrqError('CONFIG_INVALID', `${where}: ${name}.query: required when ${name}.mode is "query"`);
  return cfg;
}

/** Resolves every setting. Throws `PyrqError` (CONFIG_*) naming the file and setting. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const file = flags.config ?? env.PYRQ_CONFIG;
  const configFile = file ? resolve(file) : undefined;
  const f: ConfigFile = configFile ? readConfigFile(configFile) : {};
  const where = configFile ?? 'settings';
  const base = configFile ? dirname(configFile) : process.cwd();
  const fromFile = (p: string | undefined) => (p === undefined ? undefined : resolve(base, p));

  const timezone = flags.timezone ?? env.PYRQ_TIMEZONE ?? f.timezone ?? DEFAULTS.timezone;
  if (!isValidTimezone(timezone)) throw new PyrqError('CONFIG_INVALID', `${where}: timezone: unknown timezone ${JSON.stringify(timezone)}`);

  const dir = flags.dir !== undefined ? resolve(flags.dir) : env.PYRQ_DIR !== undefined ? resolve(env.PYRQ_DIR) : fromFile(f.files?.dir);
  const m = f.mysql;
  const mysql = sqlSection('mysql', flags.mysqlUrl ?? env.PYRQ_MYSQL_URL ?? m?.url, m, DEFAULTS.mysqlPollMs, env, where, fromFile);
  const pg = f.postgres;
  const postgres = sqlSection('postgres', flags.postgresUrl ?? env.PYRQ_POSTGRES_URL ?? pg?.url, pg, DEFAULTS.postgresPollMs, env, where, fromFile);

  const d = f.dispatch ?? {};
  const dm = f.daemon ?? {};
  let socketMode: number = DEFAULTS.socketMode;
  if (dm.socketMode !== undefined) {
    if (!/^0?[0-7]{3}$/.test(dm.socketMode)) throw new PyrqError('CONFIG_INVALID', `${where}: daemon.socketMode: ${JSON.stringify(dm.socketMode)} is not an octal mode such as "0660"`);
    socketMode = parseInt(dm.socketMode, 8);
    if (socketMode & 0o002) throw new PyrqError('CONFIG_INVALID', `${where}: daemon.socketMode: ${dm.socketMode} would make the socket world-writable; use 0660 or stricter`);
  }
  const redisPassword = f.redis?.passwordFile ? readSecretFile(fromFile(f.redis.passwordFile)!, `${where}: redis.passwordFile`) : f.redis?.password;
  const redisUrl = flags.redisUrl ?? env.PYRQ_REDIS_URL ?? f.redis?.url ?? DEFAULTS.redisUrl;
  const t = f.redis?.tls;
  const tls = t ? { ca: fromFile(t.ca), cert: fromFile(t.cert), key: fromFile(t.key) } : undefined;
  if (t) {
    // Say so rather than connect in plain text, or half-configure a client certificate.
    if (f.redis?.sentinels?.length) throw new PyrqError('CONFIG_INVALID', `${where}: redis.tls: TLS through Sentinel is not supported; use redis.url with rediss://`);
    if (!/^rediss:\/\//i.test(redisUrl)) throw new PyrqError('CONFIG_INVALID', `${where}: redis.tls is set but the Redis URL ${JSON.stringify(redactUrl(redisUrl))} is not rediss://`);
    if ((t.cert === undefined) !== (t.key === undefined)) throw new PyrqError('CONFIG_INVALID', `${where}: redis.tls: cert and key go together (a client certificate needs its key)`);
  }

  return {
    configFile,
    timezone,
    allow: f.allow,
    redis: {
      url: redisUrl,
      prefix: flags.prefix ?? env.PYRQ_PREFIX ?? f.redis?.prefix ?? DEFAULTS.prefix,
      sentinels: f.redis?.sentinels,
      name: f.redis?.name,
      password: redisPassword,
      tls,
    },
    files: dir !== undefined ? { dir, maxFileBytes: f.files?.maxFileBytes } : undefined,
    mysql,
    postgres,
    frappe: {
      site: env.PYRQ_FRAPPE_SITE ?? f.frappe?.site ?? m?.site ?? pg?.site,
      benchId: env.PYRQ_FRAPPE_BENCH_ID ?? f.frappe?.benchId,
      user: f.frappe?.user ?? 'Administrator',
    },
    dispatch: {
      catchup: d.catchup ?? 'latest',
      startingDeadline: d.startingDeadline !== undefined ? Math.round(parseConfigDuration(d.startingDeadline, `${where}: dispatch.startingDeadline`) / 1000) : undefined,
      overlap: d.overlap ?? 'allow',
      historyLength: d.historyLength ?? DEFAULTS.historyLength,
      batchSize: d.batchSize ?? DEFAULTS.batchSize,
      graceMs: d.grace !== undefined ? parseConfigDuration(d.grace, `${where}: dispatch.grace`) : 5_000,
    },
    daemon: {
      socket: flags.socket ?? env.PYRQ_SOCKET ?? fromFile(dm.socket) ?? defaultSocketPath(env),
      socketMode,
      socketGroup: dm.socketGroup,
      resyncIntervalMs: dm.resyncInterval !== undefined ? parseConfigDuration(dm.resyncInterval, `${where}: daemon.resyncInterval`) : DEFAULTS.resyncIntervalMs,
      leaseTtlMs: dm.leaseTtl !== undefined ? parseConfigDuration(dm.leaseTtl, `${where}: daemon.leaseTtl`) : DEFAULTS.leaseTtlMs,
      clientTimeoutMs: dm.clientTimeout !== undefined ? parseConfigDuration(dm.clientTimeout, `${where}: daemon.clientTimeout`) : 10_000,
    },
    log: {
      level: flags.logLevel ?? env.PYRQ_LOG_LEVEL ?? f.log?.level ?? DEFAULTS.logLevel,
      file: flags.logFile ?? env.PYRQ_LOG_FILE ?? fromFile(f.log?.file),
      pretty: flags.pretty ?? f.log?.pretty ?? false,
    },
  };
}
