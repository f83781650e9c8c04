/**
 * The base of every pyrq command: shared flags (`--config`, `--redis-url`, `--prefix`,
 * `--log-level`), `--json` (oclif's enableJsonFlag: `run()` returns a typed result that
 * is printed as JSON), settings resolution, and errors rendered from the catalogue.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import type { Redis } from 'ioredis';
import { type Config, configSecrets } from '../src/config/config.js';
import { type ConfigFlags, loadConfig } from '../src/config/load-config.js';
import { PyrqError, redactText } from '../src/errors.js';
import { createLogger, type Logger } from '../src/log.js';
import { connectRedis } from '../src/redis/connect.js';
import { Registry } from '../src/registry/registry.js';
import { toJsonText } from './json-output.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    config: Flags.string({ char: 'c', summary: 'Config file (TOML or YAML).', env: 'PYRQ_CONFIG', helpGroup: 'GLOBAL' }),
    'redis-url': Flags.string({ summary: 'Redis URL, e.g. redis://127.0.0.1:6379/0 (rediss:// for TLS).', helpGroup: 'GLOBAL' }),
    prefix: Flags.string({ summary: 'Key prefix of the pyrq registry in Redis. Default "pyrq:".', helpGroup: 'GLOBAL' }),
    'log-level': Flags.string({ summary: 'Log level: trace, debug, info, warn, error, silent.', helpGroup: 'GLOBAL' }),
  };

  // After baseFlags: oclif adds --json to baseFlags when this is set.
  static override enableJsonFlag = true;

  protected flags!: BaseFlags<T>;
  protected settings!: Config;
  private closers: (() => Promise<void> | void)[] = [];
  private logger?: Logger;

  public override async init(): Promise<void> {
    await super.init();
    const { flags } = await this.parse(this.ctor as typeof BaseCommand);
    this.flags = flags as BaseFlags<T>;
  }

  /** Settings from flags > env > config file > defaults. Extra flag values come from the command. */
  protected loadSettings(extra: Partial<ConfigFlags> = {}): Config {
    const f = this.flags as Record<string, unknown>;
    this.settings = loadConfig({
      config: f.config as string | undefined,
      redisUrl: f['redis-url'] as string | undefined,
      prefix: f.prefix as string | undefined,
      logLevel: f['log-level'] as string | undefined,
      ...extra,
    });
    return this.settings;
  }

  /** Logs go to stderr for commands, so stdout stays clean for the result and `--json`. */
  protected log_(): Logger {
    if (!this.logger) {
      const s = this.settings;
      // One-shot commands print their result (errors included) on stdout; logs go to
      // stderr and stay quiet unless --log-level asks for them.
      const level = ((this.flags as Record<string, unknown>)['log-level'] as string | undefined) ?? 'error';
      this.logger = createLogger({ level, file: 2, sync: true, secrets: configSecrets(s) });
    }
    return this.logger;
  }

  protected async openRegistry(): Promise<Registry> {
    const redis = await connectRedis(this.settings.redis);
    this.onClose(() => void redis.disconnect());
    return new Registry(redis, this.settings.redis.prefix);
  }

  protected async openRedis(): Promise<Redis> {
    const redis = await connectRedis(this.settings.redis);
    this.onClose(() => void redis.disconnect());
    return redis;
  }

  protected onClose(fn: () => Promise<void> | void): void {
    this.closers.push(fn);
  }

  protected override logJson(json: unknown): void {
    process.stdout.write(`${toJsonText(json)}\n`);
  }

  protected override toErrorJson(err: unknown): unknown {
    if (err instanceof PyrqError) return { error: { code: err.code, message: this.redact(err.message), details: err.details } };
    const e = err as Error & { oclif?: { exit?: number } };
    return { error: { code: 'ERROR', message: this.redact(e.message ?? String(err)) } };
  }

  protected redact(text: string): string {
    return redactText(text, configSecrets(this.settings));
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    if (err instanceof PyrqError) {
      process.exitCode = err.exitCode;
      if (this.jsonEnabled()) this.logJson(this.toErrorJson(err));
      else process.stderr.write(`Error: ${this.redact(err.message)}\n`);
      return undefined;
    }
    // oclif exits 2 on a usage error (an unknown flag); for pyrq, 2 means "changes
    // pending", so a script branching on `pyrq diff`'s 2 would take a typo for a plan.
    const oclif = (err as { oclif?: { exit?: number } }).oclif;
    if (oclif?.exit === 2) oclif.exit = 1;
    if ((err as { exitCode?: number }).exitCode === 2) (err as { exitCode?: number }).exitCode = 1;
    return super.catch(err);
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    for (const c of this.closers.reverse()) await c();
    this.closers = [];
    return super.finally(err);
  }
}
