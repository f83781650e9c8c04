/**
 * Usage errors (issue 26): an unknown command or flag, a missing or extra argument exit
 * 64 (EX_USAGE; 2 is `diff`'s "changes pending"), and print the error with the closest
 * command or flag, the usage line and where the help is: a few lines, not the whole help.
 */
import { describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';

const env = { PYRQ_CONFIG: '' };

/** [command line, what the error line says]. */
const CASES: [string[], string][] = [
  [['stauts'], 'Error: unknown command "stauts" (did you mean pyrq status?)'],
  [['aply'], 'Error: unknown command "aply" (did you mean pyrq apply?)'],
  [
    ['diff', 'sched'],
    'Error: unexpected argument "sched": pyrq diff takes no arguments (did you mean pyrq diff --dir sched?)',
  ],
  [['status', '--wdie'], 'Error: unknown flag --wdie (did you mean --wide?)'],
  [['apply', '--directory', 'x'], 'Error: unknown flag --directory (did you mean --dir?)'],
  [['status', '--redis', 'redis://h'], 'Error: unknown flag --redis (did you mean --redis-url?)'],
  [['apply', '--dri-run'], 'Error: unknown flag --dri-run (did you mean --dry-run?)'],
  [['status', '--dir', 'x'], 'Error: unknown flag --dir (it is a flag of'],
  [['trigger'], 'Error: missing argument ID (Schedule id)'],
  [['apply', '--quiet', '--verbose'], 'Error: --quiet cannot be used with --verbose'],
  [['history', 'x', '--count', 'abc'], 'Error: --count: Expected an integer but received: abc'],
];

describe('usage errors', () => {
  it.each(CASES)('pyrq %j: exit 64, the fix, the usage line, no whole help', async (argv, first) => {
    const r = await pyrq(argv, { env });
    expect(r.code, r.stderr).toBe(64);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toContain(first);
    expect(lines[1]).toMatch(/^Usage: pyrq /);
    expect(lines[2]).toMatch(/^See pyrq (help|[a-z]+ --help) for every (command|flag)\.$/);
    expect(lines).toHaveLength(3);
    expect(r.stdout).toBe('');
  });

  it("the usage line is the command's: its arguments, then [FLAGS]", async () => {
    expect((await pyrq(['history', '--wdie'], { env })).stderr).toContain(
      'Usage: pyrq history ID [FLAGS]\nSee pyrq history --help for every flag.',
    );
    expect((await pyrq(['status', '--wdie'], { env })).stderr).toContain('Usage: pyrq status [IDS...] [FLAGS]');
    expect((await pyrq(['stauts'], { env })).stderr).toContain(
      'Usage: pyrq COMMAND [FLAGS]\nSee pyrq help for every command.',
    );
  });

  it('with --json: the error as JSON on stdout, code USAGE, exit 64', async () => {
    for (const argv of [
      ['status', '--wdie', '--json'],
      ['stauts', '--json'],
    ]) {
      const r = await pyrq(argv, { env });
      expect(r.code, r.stderr).toBe(64);
      const e = r.json<{ error: { code: string; message: string; usage: string } }>().error;
      expect(e.code).toBe('USAGE');
      expect(e.message).toMatch(/did you mean/);
      expect(e.usage).toMatch(/^pyrq /);
    }
  });

  it('a typo in a flag of `pyrq diff` never reads as "changes pending" (2)', async () => {
    const r = await pyrq(['diff', '--dri', 'x'], { env });
    expect(r.code).toBe(64);
  });
});
