/**
 * The base of every pyrq command: the global flags (`--config`, `--log-level`), `--json`
 * (oclif's enableJsonFlag: `run()` returns a typed result that is printed as JSON),
 * settings resolution, and errors rendered from the catalogue. Each command adds the
 * flag groups it uses from `flags.ts` (Redis, sources, socket).
 */
import { Command } from '@oclif/core/command';
import type * as Interfaces from '@oclif/core/interfaces';
import type { Redis } from 'ioredis';
import { type Config, configSecrets } from '../src/config/config.js';
import { type ConfigFileReader, configFileOf, resolveConfig } from '../src/config/resolve-config.js';
import { type ConfigFlags, SETTING_LIST } from '../src/config/settings.js';
import { PyrqError, redactText } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import type { Registry } from '../src/registry/registry.js';
import { globalFlags, ONE_SHOT_LOG_LEVEL } from './flags.js';
import { printableText } from '../src/printable.js';
import { toJsonText } from './json-output.js';
import { fromParseError, printUsageError, UsageError } from './usage-error.js';

/** oclif's parser output shapes (not exported by its entry points; `any` as there, so the override matches). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlagOutput = { [name: string]: any };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgOutput = { [name: string]: any };

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = globalFlags;

  // After baseFlags: oclif adds --json to baseFlags when this is set.
  static override enableJsonFlag = true;

  protected flags!: BaseFlags<T>;
  protected settings!: Config;
  private closers: (() => Promise<void> | void)[] = [];
  private logger?: Logger;
  private redis?: Promise<Redis>;
  private registry?: Promise<Registry>;
  private readConfigFile?: ConfigFileReader;

  public override async init(): Promise<void> {
    await super.init();
    let parsed;
    try {
      parsed = await this.parse(this.ctor as typeof BaseCommand);
    } catch (e) {
      // Whatever oclif's parser refuses is a usage error (exit 64, the one fix). The
      // command line was parsed, and refused: no "did not parse its arguments" warning.
      this.parsed = true;
      throw this.usageError(e as Error);
    }
    this.flags = parsed.flags as BaseFlags<T>;
    // The config file's reader (its parsers and zod schema) only when a file is named:
    // without one, a command's start loads no zod (docs/performance.md, `pyrq status`).
    if (configFileOf(this.configFlags(), process.env) !== undefined)
      ({ readConfigFile: this.readConfigFile } = await import('../src/config/load-config.js'));
  }

  private parsedOnce?: Promise<unknown>;

  /**
   * The command line is parsed once (in `init`); a command's own `this.parse(Cmd)` in
   * `run()` gets the same result, so oclif's warnings (a deprecated `--limit`) print once.
   */
  protected override parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    if (argv !== undefined && argv !== this.argv) return super.parse(options, argv);
    this.parsedOnce ??= super.parse(options, argv);
    return this.parsedOnce as Promise<Interfaces.ParserOutput<F, B, A>>;
  }

  private usageError(e: Error): UsageError {
    const others = this.config.commands.filter((c) => !c.hidden && c.id !== this.id);
    const c = this.ctor;
    const shape = { id: this.id ?? c.id, args: c.args, strict: c.strict, flags: { ...c.baseFlags, ...c.flags } };
    return fromParseError(this.config.bin, shape, e, others);
  }

  /** The settings given as flags on this command line, by the table of settings. */
  protected configFlags(): ConfigFlags {
    const given = this.flags as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const s of SETTING_LIST) {
      if (s.flag === undefined || s.name === undefined) continue;
      const v = given[s.flag];
      // A boolean flag can only switch a setting on; absent, the config file decides.
      if (v !== undefined && v !== false) out[s.name] = v;
    }
    return out;
  }

  /** Settings from flags > env > config file > defaults. */
  protected loadSettings(): Config {
    this.settings = resolveConfig(this.configFlags(), process.env, this.readConfigFile);
    return this.settings;
  }

  // pino, ioredis and the registry are imported when a command first asks for them
  // (start-up time: `pyrq status` answered by the daemon needs neither).

  /** Logs go to stderr for commands, so stdout stays clean for the result and `--json`. */
  protected async log_(): Promise<Logger> {
    if (!this.logger) {
      const { createLogger } = await import('../src/log.js');
      const s = this.settings;
      // One-shot commands print their result (errors included) on stdout; logs go to
      // stderr and stay quiet unless --log-level asks for them.
      const level = ((this.flags as Record<string, unknown>)['log-level'] as string | undefined) ?? ONE_SHOT_LOG_LEVEL;
      this.logger = createLogger({ level, file: 2, sync: true, secrets: configSecrets(s) });
    }
    return this.logger;
  }

  /** The registry on the command's one connection (opened on the first call). */
  protected openRegistry(): Promise<Registry> {
    this.registry ??= Promise.all([this.openRedis(), import('../src/registry/registry.js')]).then(
      ([redis, { Registry }]) => new Registry(redis, this.settings.redis.prefix),
    );
    return this.registry;
  }

  /** The command's one Redis connection, opened on the first call (later calls share it). */
  protected openRedis(): Promise<Redis> {
    this.redis ??= import('../src/redis/connect.js').then(async ({ connectRedis }) => {
      const redis = await connectRedis(this.settings.redis);
      this.onClose(() => void redis.disconnect());
      return redis;
    });
    return this.redis;
  }

  protected onClose(fn: () => Promise<void> | void): void {
    this.closers.push(fn);
  }

  /**
   * Every text line a command prints passes here: control characters from file names,
   * ids or messages are escaped (src/printable.ts), so they cannot drive the terminal.
   * Renderers escape newlines inside values themselves (a file name holding one).
   */
  public override log(message = '', ...args: unknown[]): void {
    super.log(printableText(message), ...args);
  }

  public override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(printableText(message), ...args);
  }

  protected override logJson(json: unknown): void {
    process.stdout.write(`${toJsonText(json)}\n`);
  }

  protected override toErrorJson(err: unknown): unknown {
    if (err instanceof PyrqError)
      return { error: { code: err.code, message: this.redact(err.message), details: err.details } };
    const e = err as Error & { oclif?: { exit?: number } };
    return { error: { code: 'ERROR', message: this.redact(e.message ?? String(err)) } };
  }

  protected redact(text: string): string {
    return redactText(text, configSecrets(this.settings));
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    if (err instanceof UsageError) {
      process.exitCode = err.exitCode;
      // Before parsing, oclif does not know about --json yet: the command line says.
      printUsageError(err, this.argv.includes('--json'));
      return undefined;
    }
    if (err instanceof PyrqError) {
      process.exitCode = err.exitCode;
      if (this.jsonEnabled()) this.logJson(this.toErrorJson(err));
      else process.stderr.write(`Error: ${printableText(this.redact(err.message))}\n`);
      return undefined;
    }
    // Any other oclif error with its exit 2 (usage errors are caught above): for pyrq, 2
    // means "changes pending", so a script branching on `pyrq diff`'s 2 must not see it.
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
