/**
 * TLS options for ioredis from `redis.tls` (a `rediss://` URL). The files are read when
 * connecting, not when the config is loaded, so the private key never sits in the
 * resolved configuration that commands and the daemon pass around.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RedisConfig } from '../config/config.js';
import { PyrqError } from '../errors.js';

function read(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new PyrqError(
      'CONFIG_INVALID',
      `redis.tls.${setting}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** `undefined` without `redis.tls`: a `rediss://` URL then uses the system CAs (and NODE_EXTRA_CA_CERTS). */
export function tlsOptions(cfg: RedisConfig): ConnectionOptions | undefined {
  if (!cfg.tls) return undefined;
  const out: ConnectionOptions = {};
  if (cfg.tls.ca !== undefined) out.ca = read(cfg.tls.ca, 'ca');
  if (cfg.tls.cert !== undefined) out.cert = read(cfg.tls.cert, 'cert');
  if (cfg.tls.key !== undefined) out.key = read(cfg.tls.key, 'key');
  return out;
}
