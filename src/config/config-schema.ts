/**
 * The configuration file (`pyrq.toml` or `pyrq.yaml`): one strict schema, so a typo in
 * a setting is an error, not a silently ignored line. Every setting can also come from a
 * flag or an environment variable (see `load-config.ts` for the precedence). The
 * descriptions and defaults come from the table of settings (`settings.ts`).
 */
import { retryInput } from '../model/retry-schema.js';
import { z } from 'zod';
import { CATCHUP_POLICIES, OVERLAP_POLICIES } from '../model/schedule-schema.js';
import { BTU_GENERATIONS, BTU_RUNNERS } from './config.js';
import { SETTINGS, type Setting, type SettingId, defaultText } from './settings.js';

// Every schema here is built on first use (`configFileSchema()`), not when the module is
// imported: building them is ~50 ms of zod work at every CLI start (`pyrq status`), and
// only a config file (user input) is validated with them.
const duration = () => z.union([z.string(), z.number()]);

/** The schema metadata of a setting: its description and default, from the table. */
function about(id: SettingId): { description: string } {
  const s: Setting = SETTINGS[id];
  const d = defaultText(s);
  return { description: d === undefined ? s.description : `${s.description} Default ${d}.` };
}

/** A polled SQL source section (`mysql`, `postgres`): the same keys, described from the table. */
function sqlSection(n: 'mysql' | 'postgres') {
  return z.strictObject({
    url: z
      .string()
      .optional()
      .meta(about(`${n}.url`)),
    host: z
      .string()
      .optional()
      .meta(about(`${n}.host`)),
    port: z
      .number()
      .int()
      .optional()
      .meta(about(`${n}.port`)),
    user: z
      .string()
      .optional()
      .meta(about(`${n}.user`)),
    database: z
      .string()
      .optional()
      .meta(about(`${n}.database`)),
    passwordEnv: z
      .string()
      .optional()
      .meta(about(`${n}.passwordEnv`)),
    passwordFile: z
      .string()
      .optional()
      .meta(about(`${n}.passwordFile`)),
    mode: z
      .enum(['btu', 'query'])
      .optional()
      .meta(about(`${n}.mode`)),
    query: z
      .string()
      .optional()
      .meta(about(`${n}.query`)),
    pollInterval: duration()
      .optional()
      .meta(about(`${n}.pollInterval`)),
    site: z
      .string()
      .optional()
      .meta(about(`${n}.site`)),
  });
}

/**
 * One entry of `[[sql]]` (several SQL sources, e.g. one per site of a bench): the keys of
 * a `mysql`/`postgres` section, plus its name, its driver (else from the URL's scheme)
 * and the Frappe site and bench id its BTU schedules run on.
 */
const sqlEntry = () =>
  z.strictObject({
    name: z.string(),
    driver: z.enum(['mysql', 'postgres']).optional(),
    url: z.string().optional(),
    host: z.string().optional(),
    port: z.number().int().optional(),
    user: z.string().optional(),
    database: z.string().optional(),
    passwordEnv: z.string().optional(),
    passwordFile: z.string().optional(),
    mode: z.enum(['btu', 'query']).optional(),
    query: z.string().optional(),
    pollInterval: duration().optional(),
    frappe: z.strictObject({ site: z.string().optional(), benchId: z.string().optional() }).optional(),
  });

const buildConfigFileSchema = () =>
  z.strictObject({
    timezone: z.string().optional().meta(about('timezone')),
    allow: z.array(z.string()).optional().meta(about('allow')),
    redis: z
      .strictObject({
        url: z.string().optional().meta(about('redis.url')),
        prefix: z.string().optional().meta(about('redis.prefix')),
        sentinels: z
          .array(z.strictObject({ host: z.string(), port: z.number().int() }))
          .optional()
          .meta(about('redis.sentinels')),
        name: z.string().optional().meta(about('redis.name')),
        password: z.string().optional().meta(about('redis.password')),
        passwordFile: z.string().optional().meta(about('redis.passwordFile')),
        tls: z
          .strictObject({
            ca: z.string().optional().meta(about('redis.tls.ca')),
            cert: z.string().optional().meta(about('redis.tls.cert')),
            key: z.string().optional().meta(about('redis.tls.key')),
          })
          .optional()
          .meta({ description: 'TLS for a rediss:// URL. Paths are relative to the config file.' }),
      })
      .optional(),
    files: z
      .strictObject({
        dir: z.string().optional().meta(about('files.dir')),
        maxFileBytes: z.number().int().positive().optional().meta(about('files.maxFileBytes')),
        followSymlinksOutside: z.boolean().optional().meta(about('files.followSymlinksOutside')),
      })
      .optional(),
    mysql: sqlSection('mysql').optional(),
    postgres: sqlSection('postgres').optional(),
    sql: z.array(sqlEntry()).optional().meta(about('sql')),
    frappe: z
      .strictObject({
        site: z.string().optional().meta(about('frappe.site')),
        benchId: z.string().optional().meta(about('frappe.benchId')),
        benchPath: z.string().optional().meta(about('frappe.benchPath')),
        user: z.string().optional().meta(about('frappe.user')),
      })
      .optional(),
    btu: z
      .strictObject({
        rpc: z.boolean().optional().meta(about('btu.rpc')),
        runner: z.enum(BTU_RUNNERS).optional().meta(about('btu.runner')),
        overlap: z.enum(OVERLAP_POLICIES).optional().meta(about('btu.overlap')),
        generation: z.enum(BTU_GENERATIONS).optional().meta(about('btu.generation')),
        user: z.string().optional().meta(about('btu.user')),
      })
      .optional(),
    dispatch: z
      .strictObject({
        catchup: z.enum(CATCHUP_POLICIES).optional().meta(about('dispatch.catchup')),
        startingDeadline: duration().optional().meta(about('dispatch.startingDeadline')),
        failAfter: z.number().int().min(1).max(1000).optional().meta(about('dispatch.failAfter')),
        alertAfter: duration().optional().meta(about('dispatch.alertAfter')),
        overlap: z.enum(OVERLAP_POLICIES).optional().meta(about('dispatch.overlap')),
        retry: retryInput.optional().meta(about('dispatch.retry')),
        jitter: duration().optional().meta(about('dispatch.jitter')),
        historyLength: z.number().int().positive().optional().meta(about('dispatch.historyLength')),
        batchSize: z.number().int().positive().optional().meta(about('dispatch.batchSize')),
        grace: duration().optional().meta(about('dispatch.grace')),
      })
      .optional(),
    daemon: z
      .strictObject({
        socket: z.string().optional().meta(about('daemon.socket')),
        stateDir: z.string().optional().meta(about('daemon.stateDir')),
        socketMode: z.string().optional().meta(about('daemon.socketMode')),
        socketGroup: z.string().optional().meta(about('daemon.socketGroup')),
        resyncInterval: duration().optional().meta(about('daemon.resyncInterval')),
        leaseTtl: duration().optional().meta(about('daemon.leaseTtl')),
        clockOffsetWarn: duration().optional().meta(about('daemon.clockOffsetWarn')),
        clientTimeout: duration().optional().meta(about('daemon.clientTimeout')),
      })
      .optional(),
    http: z
      .strictObject({
        listen: z.string().optional().meta(about('http.listen')),
        token: z.string().optional().meta(about('http.token')),
        tokenFile: z.string().optional().meta(about('http.tokenFile')),
      })
      .optional(),
    log: z
      .strictObject({
        level: z.string().optional().meta(about('log.level')),
        file: z.string().optional().meta(about('log.file')),
        pretty: z.boolean().optional().meta(about('log.pretty')),
      })
      .optional(),
  });

let built: ReturnType<typeof buildConfigFileSchema> | undefined;

/** The config file's schema (built on the first call). */
export function configFileSchema(): ReturnType<typeof buildConfigFileSchema> {
  return (built ??= buildConfigFileSchema());
}

export type ConfigFile = z.infer<ReturnType<typeof buildConfigFileSchema>>;
