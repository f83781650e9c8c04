/**
 * Usage errors: an unknown command or flag, a missing or extra argument, a flag value
 * oclif refuses. They exit 64 (sysexits' EX_USAGE), a code no other outcome uses: 2 is
 * "changes pending" for `diff`, so a typo must not read as a plan. The message is the
 * usage line and the one fix ("did you mean --wide?"), not the whole help.
 *
 * Pure but for `printUsageError`: the command's shape comes in as oclif's cached
 * command (the manifest's), so the hook for an unknown command and a command's own
 * parse errors share one wording.
 */
import { PyrqError } from '../src/errors.js';
import { suggest } from '../src/model/suggest.js';
import { toJsonText } from './json-output.js';

/** The parts of an oclif command (cached in the manifest, or its class) a usage line needs. */
export interface CommandShape {
  id: string;
  args?: Readonly<Record<string, { required?: boolean; description?: string }>>;
  flags?: Readonly<Record<string, { char?: string; aliases?: string[]; hidden?: boolean }>>;
  strict?: boolean;
}

/**
 * A usage error: the message says what is wrong and the fix; `usage` is the command's
 * usage line, `more` where the rest is ("See pyrq status --help for every flag.").
 */
export class UsageError extends PyrqError {
  constructor(
    message: string,
    readonly usage: string,
    readonly more: string,
  ) {
    super('USAGE', message, { usage });
    this.name = 'UsageError';
  }
}

const spaced = (id: string) => id.replace(/:/g, ' ');
const moreOn = (bin: string, cmd: CommandShape) => `See ${bin} ${spaced(cmd.id)} --help for every flag.`;

/** `pyrq history ID [FLAGS]`: the command, its arguments, and `[FLAGS]` for the rest. */
export function usageLine(bin: string, cmd: CommandShape): string {
  const args = Object.entries(cmd.args ?? {}).map(([name, a]) => {
    const n = name.toUpperCase();
    if (cmd.strict === false) return `[${n}...]`;
    return a.required ? n : `[${n}]`;
  });
  return [bin, spaced(cmd.id), ...args, '[FLAGS]'].join(' ');
}

/** Every name a flag answers to (without dashes), hidden ones included: they work. */
function flagNames(cmd: CommandShape): string[] {
  return ['help', ...Object.entries(cmd.flags ?? {}).flatMap(([name, f]) => [name, ...(f.aliases ?? [])])];
}

/**
 * The flag meant by `given` (`--wdie`, `--directory`, `--redis`, with or without
 * `=value`): the closest name, one it begins (`--redis` -> `--redis-url`), or the longest
 * one that begins it (`--directory` -> `--dir`).
 */
export function suggestFlag(given: string, cmd: CommandShape): string | undefined {
  const word = given.replace(/^-+/, '').replace(/=.*$/, '');
  const names = flagNames(cmd);
  const close = suggest(word, names);
  if (close !== undefined) return `--${close}`;
  const stem = names
    .filter((n) => n.length >= 3 && word.toLowerCase().startsWith(n.toLowerCase()))
    .sort((a, b) => b.length - a.length)[0];
  return stem !== undefined ? `--${stem}` : undefined;
}

/**
 * The commands other than `cmd` that have flag `given`: "--dir is a flag of apply, diff, …"
 * tells someone who used the right flag on the wrong command.
 */
function elsewhere(given: string, others: readonly CommandShape[]): string[] {
  const word = given.replace(/^-+/, '').replace(/=.*$/, '');
  return others.filter((c) => c.flags?.[word] !== undefined && !c.flags[word].hidden).map((c) => spaced(c.id));
}

/** "unexpected argument "sched": pyrq diff takes no arguments (did you mean pyrq diff --dir sched?)" */
export function unexpectedArgs(bin: string, cmd: CommandShape, args: readonly string[]): UsageError {
  const n = Object.keys(cmd.args ?? {}).length;
  const what = `unexpected argument${args.length === 1 ? '' : 's'} ${args.map((a) => JSON.stringify(a)).join(', ')}`;
  const takes = n === 0 ? 'takes no arguments' : `takes at most ${n} argument${n === 1 ? '' : 's'}`;
  // A bare word after a command that reads a directory is most often the directory.
  const fix =
    cmd.flags?.dir !== undefined && args.length === 1
      ? ` (did you mean ${bin} ${spaced(cmd.id)} --dir ${args[0]}?)`
      : '';
  return new UsageError(`${what}: ${bin} ${spaced(cmd.id)} ${takes}${fix}`, usageLine(bin, cmd), moreOn(bin, cmd));
}

/** The usage error for an unknown command id (`stauts`, `diff:sched`), given every command. */
export function commandNotFound(
  bin: string,
  id: string,
  commands: readonly CommandShape[],
  argv: readonly string[] = [],
): UsageError {
  const parts = id.split(':');
  // `pyrq diff sched`: oclif joins the words into "diff:sched"; the command is `diff`.
  for (let i = parts.length - 1; i >= 1; i--) {
    const cmd = commands.find((c) => c.id === parts.slice(0, i).join(':'));
    if (cmd) return unexpectedArgs(bin, cmd, [...parts.slice(i), ...argv.filter((a) => !a.startsWith('-'))]);
  }
  const ids = commands.map((c) => spaced(c.id));
  const close = suggest(spaced(id), ids) ?? suggest(parts[0]!, ids);
  const hint = close !== undefined ? ` (did you mean ${bin} ${close}?)` : `; ${bin} help lists the commands`;
  return new UsageError(
    `unknown command ${JSON.stringify(spaced(id))}${hint}`,
    `${bin} COMMAND [FLAGS]`,
    `See ${bin} help for every command.`,
  );
}

/** oclif's text without its colours and its "See more help with --help". */
function plain(message: string): string {
  return (
    message
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;]*m/g, '')
      .replace(/\n?See more help with --help\s*$/, '')
      .replace(/^The following errors? occurred:\s*/, '')
      .replace(/^Parsing (--[\w-]+)\s*\n\s*/, '$1: ')
      .replace(/(--[\w-]+)=\S+ cannot also be provided when using (--[\w-]+)/g, '$1 cannot be used with $2')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      // "--quiet cannot be used with --verbose" says it once, not again the other way round.
      .filter((l, i, all) => {
        const m = /^(--[\w-]+) cannot be used with (--[\w-]+)$/.exec(l);
        return !m || !all.slice(0, i).includes(`${m[2]} cannot be used with ${m[1]}`);
      })
      .join('; ')
  );
}

/**
 * The usage error for an error oclif's parser threw for `cmd` (its classes are told
 * apart by their class names; `flags` on NonExistentFlagsError, `args` on the argument errors).
 */
export function fromParseError(
  bin: string,
  cmd: CommandShape,
  err: Error & { flags?: unknown; args?: unknown },
  others: readonly CommandShape[] = [],
): UsageError {
  const usage = usageLine(bin, cmd);
  const more = moreOn(bin, cmd);
  // CLIError sets `name` to "Error"; the class is what tells them apart.
  const kind = err.constructor.name;
  if (kind === 'NonExistentFlagsError' && Array.isArray(err.flags)) {
    const parts = (err.flags as string[]).map((f) => {
      const s = suggestFlag(f, cmd);
      if (s !== undefined) return `unknown flag ${f} (did you mean ${s}?)`;
      const on = elsewhere(f, others);
      return on.length > 0 ? `unknown flag ${f} (it is a flag of ${on.join(', ')})` : `unknown flag ${f}`;
    });
    return new UsageError(parts.join('; '), usage, more);
  }
  if (kind === 'UnexpectedArgsError' && Array.isArray(err.args)) return unexpectedArgs(bin, cmd, err.args as string[]);
  if (kind === 'RequiredArgsError' && Array.isArray(err.args)) {
    const missing = (err.args as { name: string; description?: string }[]).map(
      (a) => `${a.name.toUpperCase()}${a.description ? ` (${a.description.replace(/\.$/, '')})` : ''}`,
    );
    return new UsageError(`missing argument ${missing.join(', ')}`, usage, more);
  }
  return new UsageError(plain(err.message), usage, more);
}

/** Prints a usage error: as JSON on stdout with `--json`, else the message, the usage line and where the rest is. */
export function printUsageError(err: UsageError, json: boolean): void {
  if (json) {
    process.stdout.write(`${toJsonText({ error: { code: err.code, message: err.message, usage: err.usage } })}\n`);
    return;
  }
  process.stderr.write(`Error: ${err.message}\nUsage: ${err.usage}\n${err.more}\n`);
}
