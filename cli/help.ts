/**
 * pyrq's help: the "Exit codes" paragraph every command's description ends with, written
 * by one helper so it reads the same everywhere, and the top-level help (`pyrq`,
 * `pyrq help`, `pyrq --help`) with examples, exit codes and where the docs are. The help
 * class is named in package.json (`oclif.helpClass`); `pyrq help [COMMAND]` itself comes
 * from @oclif/plugin-help, shell completion from @oclif/plugin-autocomplete.
 */
import { Help } from '@oclif/core/help';
import { USAGE_EXIT } from '../src/errors.js';

/** What each exit code means for one command; 1 is always "an error", 2 only where a command uses it. */
export interface ExitCodes {
  0: string;
  1: string;
  2?: string;
  /** `apply`, `tick`, `prune`: refused, a running daemon owns the source (--force overrides); `doctor`: its worst finding is a warning. */
  3?: string;
  /** `doctor`: some check failed. */
  4?: string;
  /** Interrupted by Ctrl-C (SIGINT), where a command stops cleanly and says so (`apply`). */
  130?: string;
}

/** A usage error, on every command: sysexits' EX_USAGE (`src/errors.ts` USAGE_EXIT). */
export const USAGE_EXIT_TEXT = 'a usage error (an unknown flag, a missing or extra argument)';

/** `Exit codes: 0 …; 1 …; 2 …; 64 ….` — the last paragraph of every command's description. */
export function exitCodes(codes: ExitCodes, note?: string): string {
  const parts = [`0 ${codes[0]}`, `1 ${codes[1]}`];
  for (const c of [2, 3, 4] as const) if (codes[c] !== undefined) parts.push(`${c} ${codes[c]}`);
  parts.push(`${USAGE_EXIT} ${USAGE_EXIT_TEXT}`);
  if (codes[130] !== undefined) parts.push(`130 ${codes[130]}`);
  return `Exit codes${note ? ` (${note})` : ''}: ${parts.join('; ')}.`;
}

/** The examples under the top-level help, as [what it does, command]. */
export const ROOT_EXAMPLES: readonly (readonly [string, string])[] = [
  ['Check a directory of schedule files', 'pyrq validate --dir /etc/pyrq/schedules'],
  ['See what would change in Redis', 'pyrq diff --dir /etc/pyrq/schedules'],
  ['Make Redis match the files, and print what changed', 'pyrq apply --dir /etc/pyrq/schedules'],
  ['Run the daemon: watch the sources, fire on time', 'pyrq daemon --config /etc/pyrq/pyrq.toml'],
  ['What is scheduled, and when it runs next', 'pyrq status'],
  ['The last runs of one schedule', 'pyrq history nightly-invoices'],
  ['Check the set-up: Redis, sources, workers, the daemon', 'pyrq doctor --config /etc/pyrq/pyrq.toml'],
  ['Help on one command', 'pyrq help apply'],
  ['Shell completion (bash, zsh or powershell)', 'pyrq autocomplete bash'],
];

/** The exit codes every command keeps to, for the top-level help. */
export const ROOT_EXIT_CODES = exitCodes(
  {
    0: 'success',
    1: 'an error (bad input, a setting, a service that cannot be reached; the message says which)',
    2: 'changes pending (only "pyrq diff" and "pyrq apply --dry-run")',
    3: '"pyrq doctor" found warnings',
    4: '"pyrq doctor" found failures',
  },
  "each command's help says what they mean for it",
);

export default class PyrqHelp extends Help {
  constructor(...args: ConstructorParameters<typeof Help>) {
    super(...args);
    // oclif renders every summary and description as an EJS template, compiling each
    // into a function (`pyrq --help`: ~30 of its ~150 ms of CPU). A text without a tag
    // renders as itself, so only the ones with `<%` go through EJS: the same output.
    const ejs = this.render;
    this.render = (text: string) => (text.includes('<%') ? ejs(text) : text);
  }

  public override async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    const examples = ROOT_EXAMPLES.map(([what, cmd]) => `${what}\n\n  $ ${cmd}`).join('\n\n');
    this.log(this.section('EXAMPLES', examples));
    this.log('');
    this.log(this.section('EXIT CODES', this.wrap(ROOT_EXIT_CODES)));
    this.log('');
    this.log(
      this.section(
        'DOCUMENTATION',
        this.wrap(
          "README.md and docs/ in the package's directory (under `npm root -g` when installed globally). Help on one command: pyrq help COMMAND.",
        ),
      ),
    );
    this.log('');
  }
}
