/**
 * The configuration file (`pyrq.toml` or `pyrq.yaml`): one strict schema, so a typo in
 * a setting is an error, not a silently ignored line. Every setting can also come from a
 * flag or an environment variable (see `load-config.ts` for the precedence).
 */
import { z } from 'zod';
import { CATCHUP_POLICIES, OVERLAP_POLICIES } from '../model/schedule-schema.js';

const duration = z.union([z.string(), z.number()]);

/** A polled SQL source; `mysql` and `postgres` have the same keys. */
const sqlSection = z.strictObject({
  url: z.string().optional(),
  host: z.string().optional(),
  port: z.number().int().optional(),
  user: z.string().optional(),
  database: z.string().optional(),
  passwordEnv: z.string().optional(),
  passwordFile: z.string().optional(),
  mode: z.enum(['btu', 'query']).optional(),
  query: z.string().optional(),
  pollInterval: duration.optional(),
  site: z.string().optional(),
});

export const configFileSchema = z.strictObject({
  timezone: z.string().optional().meta({ description: 'Default timezone of schedules (IANA name). Default UTC.' }),
  allow: z.array(z.string()).optional().meta({ description: 'Function allowlist: glob patterns such as "btu.*"; when set, other functions are rejected.' }),
  redis: z
    .strictObject({
      url: z.string().optional(),
      prefix: z.string().optional(),
      sentinels: z.array(z.strictObject({ host: z.string(), port: z.number().int() })).optional(),
      name: z.string().optional().meta({ description: 'Sentinel master name.' }),
      password: z.string().optional(),
      passwordFile: z.string().optional(),
      tls: z
        .strictObject({
          ca: z.string().optional().meta({ description: 'PEM file of the CA that signed the server certificate (else the system CAs and NODE_EXTRA_CA_CERTS).' }),
          cert: z.string().optional().meta({ description: 'PEM client certificate, for a server with tls-auth-clients yes (its default).' }),
          key: z.string().optional().meta({ description: 'PEM private key of the client certificate.' }),
        })
        .optional()
        .meta({ description: 'TLS for a rediss:// URL. Paths are relative to the config file.' }),
    })
    .optional(),
  files: z.strictObject({ dir: z.string().optional(), maxFileBytes: z.number().int().positive().optional() }).optional(),
  mysql: sqlSection.optional(),
  postgres: sqlSection.optional(),
  frappe: z.strictObject({ site: z.string().optional(), benchId: z.string().optional(), user: z.string().optional() }).optional(),
  dispatch: z
    .strictObject({
      catchup: z.enum(CATCHUP_POLICIES).optional(),
      startingDeadline: duration.optional(),
      overlap: z.enum(OVERLAP_POLICIES).optional(),
      historyLength: z.number().int().positive().optional(),
      batchSize: z.number().int().positive().optional(),
      grace: duration.optional().meta({ description: 'An occurrence at most this late counts as on time and fires under every catch-up policy. Default 5s.' }),
    })
    .optional(),
  daemon: z
    .strictObject({
      socket: z.string().optional(),
      socketMode: z.string().optional(),
      socketGroup: z.string().optional(),
      resyncInterval: duration.optional(),
      leaseTtl: duration.optional(),
      clientTimeout: duration.optional().meta({ description: 'A control-socket client that leaves a message unfinished this long is disconnected. Default 10s.' }),
    })
    .optional(),
  log: z.strictObject({ level: z.string().optional(), file: z.string().optional(), pretty: z.boolean().optional() }).optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
