/**
 * Every setting pyrq has, in one table: its key in the config file, its command-line
 * flag, its environment variable, its default and what it does. Everything else is
 * derived from this table: the flags' help (`cli/flags.ts`), the precedence in
 * `loadConfig` (flag > environment > config file > default), the descriptions in the
 * config schema, and the configuration reference in docs/configuration.md (a test holds it to the
 * table). Adding a setting adds a row here and its field in `config-schema.ts`.
 *
 * Pure data: no I/O, no imports.
 */

/** Settings given as command-line flags (undefined = not given). */
export interface ConfigFlags {
  config?: string;
  redisUrl?: string;
  prefix?: string;
  dir?: string;
  mysqlUrl?: string;
  postgresUrl?: string;
  socket?: string;
  stateDir?: string;
  timezone?: string;
  logLevel?: string;
  logFile?: string;
  pretty?: boolean;
  frappeSite?: string;
  frappeBenchId?: string;
  http?: string;
}

export interface Setting {
  /** Dotted key in the config file (`redis.url`); absent for `--config` itself. */
  key?: string;
  /** The `ConfigFlags` field a flag's value is passed in. */
  name?: keyof ConfigFlags;
  /** The long flag (without `--`), on the commands that use the setting. */
  flag?: string;
  char?: 'c' | 'd';
  env?: string;
  /** The default, as it would be written in a config file (durations in the duration grammar). */
  default?: string | number | boolean;
  /** How a default that is worked out at run time reads. */
  defaultText?: string;
  description: string;
}

/**
 * The rows of one polled SQL source section (`mysql`, `postgres`): both have the same
 * keys, so one function writes them (a new SQL driver adds one call below).
 */
function sqlSettings<N extends 'mysql' | 'postgres'>(section: N, label: string, example: string) {
  const passwordEnv = `PYRQ_${section.toUpperCase()}_PASSWORD`;
  const row = (key: string, rest: Omit<Setting, 'key'>): Setting => ({ key: `${section}.${key}`, ...rest });
  return {
    [`${section}.url`]: row('url', {
      name: `${section}Url`,
      flag: `${section}-url`,
      env: `PYRQ_${section.toUpperCase()}_URL`,
      description: `${label} source, e.g. ${example} (the password from ${passwordEnv}, or the variable ${section}.passwordEnv names).`,
    }),
    [`${section}.host`]: row('host', { description: `${label} host, instead of ${section}.url.` }),
    [`${section}.port`]: row('port', { description: `${label} port.` }),
    [`${section}.user`]: row('user', { description: `${label} user.` }),
    [`${section}.database`]: row('database', { description: `${label} database (for BTU: the Frappe site database).` }),
    [`${section}.passwordEnv`]: row('passwordEnv', {
      default: passwordEnv,
      description: `The environment variable holding the ${label} password.`,
    }),
    [`${section}.passwordFile`]: row('passwordFile', {
      description: `File holding the ${label} password (instead of ${section}.passwordEnv).`,
    }),
    [`${section}.mode`]: row('mode', {
      default: 'btu',
      description: `btu (the BTU app's tables) or query (your own SELECT in ${section}.query).`,
    }),
    [`${section}.query`]: row('query', { description: 'The SELECT of query mode.' }),
    [`${section}.pollInterval`]: row('pollInterval', {
      default: '5s',
      description: 'How often the database is checked for changes.',
    }),
    [`${section}.site`]: row('site', { description: 'Frappe site the BTU schedules run on (else frappe.site).' }),
  } as Record<
    `${N}.${'url' | 'host' | 'port' | 'user' | 'database' | 'passwordEnv' | 'passwordFile' | 'mode' | 'query' | 'pollInterval' | 'site'}`,
    Setting
  >;
}

export const SETTINGS = {
  config: {
    name: 'config',
    flag: 'config',
    char: 'c',
    env: 'PYRQ_CONFIG',
    description:
      'Config file: TOML, or YAML (.yaml/.yml) or JSON (.json) by extension. Relative paths in it are relative to the file.',
  },
  timezone: {
    key: 'timezone',
    name: 'timezone',
    env: 'PYRQ_TIMEZONE',
    default: 'UTC',
    description: 'Default timezone of schedules (IANA name).',
  },
  allow: {
    key: 'allow',
    description:
      'Function allowlist: glob patterns such as "btu.*" (`*` spans dots); when set, other functions are refused.',
  },

  'redis.url': {
    key: 'redis.url',
    name: 'redisUrl',
    flag: 'redis-url',
    env: 'PYRQ_REDIS_URL',
    default: 'redis://127.0.0.1:6379/0',
    description: 'Redis URL (rediss:// for TLS; redis://user:pass@host for ACL users).',
  },
  'redis.prefix': {
    key: 'redis.prefix',
    name: 'prefix',
    flag: 'prefix',
    env: 'PYRQ_PREFIX',
    default: 'pyrq:',
    description: 'Key prefix of the pyrq registry in Redis.',
  },
  'redis.sentinels': {
    key: 'redis.sentinels',
    description: 'Sentinels, e.g. [{ host = "10.0.0.1", port = 26379 }], instead of redis.url.',
  },
  'redis.name': { key: 'redis.name', description: 'Sentinel master name.' },
  'redis.password': { key: 'redis.password', description: 'Redis password (prefer redis.passwordFile).' },
  'redis.passwordFile': { key: 'redis.passwordFile', description: 'File holding the Redis password.' },
  'redis.tls.ca': {
    key: 'redis.tls.ca',
    description: 'PEM file of the CA that signed the server certificate (else the system CAs and NODE_EXTRA_CA_CERTS).',
  },
  'redis.tls.cert': {
    key: 'redis.tls.cert',
    description: 'PEM client certificate, for a server with tls-auth-clients yes (its default).',
  },
  'redis.tls.key': { key: 'redis.tls.key', description: 'PEM private key of the client certificate.' },

  'files.dir': {
    key: 'files.dir',
    name: 'dir',
    flag: 'dir',
    char: 'd',
    env: 'PYRQ_DIR',
    description: 'Directory of schedule files (JSON, TOML, YAML), read recursively.',
  },
  'files.maxFileBytes': {
    key: 'files.maxFileBytes',
    default: 8 * 1024 * 1024,
    description: 'A schedule file larger than this is refused without being read.',
  },
  'files.followSymlinksOutside': {
    key: 'files.followSymlinksOutside',
    default: false,
    description:
      'Read a schedule file that is a symbolic link to a file outside files.dir (refused by default; linked directories are never walked).',
  },

  ...sqlSettings('mysql', 'MySQL/MariaDB', 'mysql://user@host:3306/db'),
  ...sqlSettings('postgres', 'PostgreSQL', 'postgres://user@host:5432/db'),
  sql: {
    key: 'sql',
    description:
      'Several SQL sources, e.g. one per site of a Frappe bench: an array of tables ([[sql]] in TOML), each with name (the source name: letters, digits, _ and -), url (mysql://, mariadb:// or postgres://; or driver and host/port/user/database), passwordEnv, passwordFile, mode, query, pollInterval, and frappe.site / frappe.benchId (the site and bench its BTU schedules run on). With more than one SQL source in all, the ids of an entry are namespaced "<name>.<id>" (site1.TS-000001). See docs/sources.md.',
  },

  'frappe.site': {
    key: 'frappe.site',
    name: 'frappeSite',
    flag: 'frappe-site',
    env: 'PYRQ_FRAPPE_SITE',
    description: 'Default Frappe site of target "frappe" schedules.',
  },
  'frappe.benchId': {
    key: 'frappe.benchId',
    name: 'frappeBenchId',
    flag: 'frappe-bench-id',
    env: 'PYRQ_FRAPPE_BENCH_ID',
    description:
      'Frappe bench id (bench_id in common_site_config.json): Frappe v14+ prefixes queue names with it; without it the bare queue name is used.',
  },
  'frappe.benchPath': {
    key: 'frappe.benchPath',
    env: 'PYRQ_FRAPPE_BENCH_PATH',
    description:
      "The Frappe bench directory (holding sites/). BTU rows then take rq_results_ttl and rq_job_failure_ttl from sites/common_site_config.json and sites/<site>/site_config.json, where Frappe's enqueue reads them for BTU's jobs.",
  },
  'frappe.user': {
    key: 'frappe.user',
    default: 'Administrator',
    description: 'Default Frappe user of target "frappe" schedules.',
  },

  'btu.rpc': {
    key: 'btu.rpc',
    env: 'PYRQ_BTU_RPC',
    default: true,
    description:
      "With a BTU source, the daemon answers the BTU app's Redis commands (list btu:scheduler:commands); false turns it off (the socket still answers older BTU apps).",
  },
  'btu.runner': {
    key: 'btu.runner',
    env: 'PYRQ_BTU_RUNNER',
    default: 'auto',
    description:
      'How BTU rows run: task-runner (through btu.btu_core.task_runner.run_task_by_id, as BTU enqueues: Task Log, failure e-mails), direct (the function_string itself, for BTU apps without run_task_by_id) or auto (task-runner for a 2025-26 BTU app, direct for a 2024 one; see btu.generation).',
  },
  'btu.generation': {
    key: 'btu.generation',
    env: 'PYRQ_BTU_GENERATION',
    default: 'auto',
    description:
      "Which BTU app the tables belong to: auto (detected from the schema: a Task Schedule with cron_timezone is 2025-26), 2024 (version-15 app: Hourly/Daily... cron strings stored in UTC) or 2025 (every row in its cron_timezone, else BTU Configuration's). Decides fire hours and the auto runner.",
  },
  'btu.user': {
    key: 'btu.user',
    env: 'PYRQ_BTU_USER',
    description:
      "The Frappe user BTU rows' jobs run as. BTU's enqueue uses the calling user: the user of the API token the old btu_scheduler daemon used (webserver_token). Unset: frappe.user (Administrator).",
  },
  'btu.overlap': {
    key: 'btu.overlap',
    default: 'forbid',
    description:
      'Overlap policy of BTU rows (BTU skips a task while its previous run is In-Progress): forbid, allow, buffer-one or replace.',
  },

  'dispatch.catchup': {
    key: 'dispatch.catchup',
    default: 'latest',
    description: 'Default catch-up policy for missed occurrences: skip, latest or all.',
  },
  'dispatch.startingDeadline': {
    key: 'dispatch.startingDeadline',
    description: 'Default: a missed occurrence older than this is skipped, whatever the catch-up policy.',
  },
  'dispatch.failAfter': {
    key: 'dispatch.failAfter',
    description:
      'Default `failAfter`: a schedule is failing after this many failed jobs in a row (3 when unset; docs/observability.md).',
  },
  'dispatch.alertAfter': {
    key: 'dispatch.alertAfter',
    description:
      'Default `alertAfter`: a schedule is overdue when no job of it succeeded for this long (unset: two occurrences plus the job timeout).',
  },
  'dispatch.overlap': {
    key: 'dispatch.overlap',
    default: 'allow',
    description:
      'Default overlap policy, while the previous job is queued or running: allow, forbid (skip), buffer-one (hold one occurrence until it ends) or replace (stop or cancel it).',
  },
  'dispatch.retry': {
    key: 'dispatch.retry',
    description:
      'Default retry of a failed job, as the schedule field retry: a number of retries, or {max, intervals} / {max, exponential} (config file only).',
  },
  'dispatch.jitter': {
    key: 'dispatch.jitter',
    description:
      'Default jitter: each occurrence fires a fixed delay up to this long after its time, spreading schedules that share a cron.',
  },
  'dispatch.historyLength': {
    key: 'dispatch.historyLength',
    default: 50,
    description: 'Runs kept per schedule for `pyrq history`.',
  },
  'dispatch.batchSize': {
    key: 'dispatch.batchSize',
    default: 250,
    description: "Schedules per fire script: a worker sees each batch's jobs when it ends.",
  },
  'dispatch.grace': {
    key: 'dispatch.grace',
    default: '5s',
    description: 'An occurrence at most this late counts as on time and fires under every catch-up policy.',
  },

  'daemon.socket': {
    key: 'daemon.socket',
    name: 'socket',
    flag: 'socket',
    env: 'PYRQ_SOCKET',
    defaultText: '/run/pyrq/pyrq.sock as root, else $XDG_RUNTIME_DIR/pyrq/pyrq.sock, else /tmp/pyrq-$UID/pyrq.sock',
    description: 'Control socket path.',
  },
  'daemon.stateDir': {
    key: 'daemon.stateDir',
    name: 'stateDir',
    flag: 'state-dir',
    env: 'PYRQ_STATE_DIR',
    defaultText:
      "$STATE_DIRECTORY (systemd's StateDirectory=), else /var/lib/pyrq as root, else $XDG_STATE_HOME/pyrq (~/.local/state/pyrq)",
    description:
      'Where the daemon keeps its copy of pushed schedules and pauses, restored into a Redis that restarted empty.',
  },
  'daemon.socketMode': {
    key: 'daemon.socketMode',
    default: '0660',
    description: 'Permissions of the control socket (never world-writable).',
  },
  'daemon.socketGroup': { key: 'daemon.socketGroup', description: 'Group of the control socket.' },
  'daemon.resyncInterval': {
    key: 'daemon.resyncInterval',
    default: '15m',
    description: 'How often the leader re-reads every source and repairs drift.',
  },
  'daemon.leaseTtl': {
    key: 'daemon.leaseTtl',
    default: '2500ms',
    description:
      "Leader lease: a standby takes over within this long of the leader's death (the leader renews it ten times as often, so a stall of 90 % of it is survived).",
  },
  'daemon.clockOffsetWarn': {
    key: 'daemon.clockOffsetWarn',
    default: '500ms',
    description:
      "pyrq status warns when a daemon's clock is further than this from Redis's (fires go by Redis's clock either way).",
  },
  'daemon.clientTimeout': {
    key: 'daemon.clientTimeout',
    default: '10s',
    description:
      'A control-socket client that leaves a message unfinished this long after its first byte is disconnected, however slowly the rest arrives.',
  },

  'http.listen': {
    key: 'http.listen',
    name: 'http',
    flag: 'http',
    env: 'PYRQ_HTTP',
    description:
      'Serve /metrics, /healthz, /readyz and the status page on [HOST:]PORT (loopback when only a port is given; [::1]:9464 for IPv6). Off when unset.',
  },
  'http.token': {
    key: 'http.token',
    env: 'PYRQ_HTTP_TOKEN',
    description:
      'Bearer token the HTTP listener requires on / and /metrics (a browser may give it as the Basic password); prefer http.tokenFile.',
  },
  'http.tokenFile': {
    key: 'http.tokenFile',
    env: 'PYRQ_HTTP_TOKEN_FILE',
    description: 'File holding the HTTP bearer token (instead of http.token).',
  },

  'log.level': {
    key: 'log.level',
    name: 'logLevel',
    flag: 'log-level',
    env: 'PYRQ_LOG_LEVEL',
    default: 'info',
    description: 'Daemon log level: trace, debug, info, warn, error, silent.',
  },
  'log.file': {
    key: 'log.file',
    name: 'logFile',
    flag: 'log-file',
    env: 'PYRQ_LOG_FILE',
    description: "Write the daemon's logs to this file (reopened on SIGUSR2) instead of stdout.",
  },
  'log.pretty': {
    key: 'log.pretty',
    name: 'pretty',
    flag: 'pretty',
    default: false,
    description: 'Human-readable logs instead of JSON lines.',
  },
} as const satisfies Record<string, Setting>;

export type SettingId = keyof typeof SETTINGS;

/** The rows as one list, in table order. */
export const SETTING_LIST: readonly (Setting & { id: SettingId })[] = Object.entries(SETTINGS).map(([id, s]) => ({
  id: id as SettingId,
  ...(s as Setting),
}));

/** How a setting's default reads in help and docs ("15m", "UTC", "false"); undefined when it has none. */
export function defaultText(s: Setting): string | undefined {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined) return undefined;
  return String(s.default);
}

/** `[default: UTC, env: PYRQ_TIMEZONE]`, as oclif writes it, or '' when a setting has neither. */
export function settingLabel(s: Setting): string {
  const parts: string[] = [];
  const d = defaultText(s);
  if (d !== undefined) parts.push(`default: ${d}`);
  if (s.env !== undefined) parts.push(`env: ${s.env}`);
  return parts.length > 0 ? `[${parts.join(', ')}]` : '';
}
