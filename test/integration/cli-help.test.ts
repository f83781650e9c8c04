/**
 * The help a newcomer reads, as the built CLI prints it: `pyrq help` and `pyrq help
 * COMMAND` work (oclif's help plugin), the top level and every command show examples and
 * exit codes, every setting flag shows its environment variable and default, and shell
 * completion is there (oclif's autocomplete plugin).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultText, SETTING_LIST } from '../../src/config/settings.js';
import { pyrq, ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const COMMANDS = readdirSync(join(ROOT, 'cli', 'commands'))
  .filter((n) => n.endsWith('.ts'))
  .map((n) => n.replace(/\.ts$/, ''))
  .sort();
// Autocomplete keeps a cache under the user's cache directory: keep it out of $HOME.
const home = tmpDir('pyrq-help-');
afterAll(() => home.cleanup());
const env = {
  HOME: home.path,
  XDG_CACHE_HOME: join(home.path, 'cache'),
  XDG_DATA_HOME: join(home.path, 'data'),
  COLUMNS: '80',
};
/** Help text with its line wrapping undone, so a label split over two lines still matches. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

/** Per command: `pyrq COMMAND --help` and `pyrq help COMMAND`, run a few at a time. */
const helps = new Map<
  string,
  { viaFlag: Awaited<ReturnType<typeof pyrq>>; viaHelp: Awaited<ReturnType<typeof pyrq>> }
>();
beforeAll(async () => {
  const queue = [...COMMANDS];
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      helps.set(c, { viaFlag: await pyrq([c, '--help'], { env }), viaHelp: await pyrq(['help', c], { env }) });
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}, 240_000);

describe('pyrq help', () => {
  it('`pyrq help` exits 0 and lists every command, with examples, exit codes and where the docs are', async () => {
    const r = await pyrq(['help'], { env });
    expect(r.code, r.stderr).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^ {2}${c} `, 'm'));
    expect(r.stdout).toMatch(/^EXAMPLES$/m);
    expect(r.stdout).toMatch(/^ {4}\$ pyrq /m);
    expect(r.stdout).toMatch(/^EXIT CODES$/m);
    expect(flat(r.stdout)).toContain('0 success; 1 an error');
    expect(r.stdout).toMatch(/^DOCUMENTATION$/m);
    // Written for an 80-column terminal.
    expect(r.stdout.split('\n').filter((l) => l.length > 80)).toEqual([]);
    // The same text with no argument and with --help.
    const bare = await pyrq(['--help'], { env });
    expect(bare.code).toBe(0);
    expect(bare.stdout).toBe(r.stdout);
  });

  it('`pyrq help COMMAND` is `pyrq COMMAND --help`; every command has EXAMPLES and its exit codes', async () => {
    expect(COMMANDS.length).toBe(17);
    for (const c of COMMANDS) {
      const { viaHelp, viaFlag } = helps.get(c)!;
      expect(viaHelp.code, `${c}: ${viaHelp.stderr}`).toBe(0);
      expect(viaFlag.code, c).toBe(0);
      expect(viaHelp.stdout, c).toBe(viaFlag.stdout);
      expect(viaHelp.stdout, c).toMatch(/^EXAMPLES$/m);
      expect(viaHelp.stdout, c).toMatch(/^ {4}\$ pyrq /m);
      expect(flat(viaHelp.stdout), c).toMatch(/Exit codes[^:]*: 0 [^;]+; 1 /);
      // COLUMNS=80: oclif wraps the text, but not a summary or an example that is too long.
      expect(
        viaHelp.stdout.split('\n').filter((l) => l.length > 80),
        c,
      ).toEqual([]);
    }
  });

  it('every setting flag a command lists shows its environment variable and its default', async () => {
    let checked = 0;
    for (const c of COMMANDS) {
      const all = flat(helps.get(c)!.viaFlag.stdout);
      // The flag entries, after USAGE (which names every flag too).
      const text = all.slice(all.search(/ (?:[A-Z]+ )?FLAGS /));
      for (const s of SETTING_LIST) {
        if (s.flag === undefined) continue;
        // One-shot commands' --log-level is their own stderr level ([default: error]), not the daemon's log.level.
        if (s.flag === 'log-level' && c !== 'daemon') continue;
        const at = text.search(new RegExp(`--${s.flag}(=<value>)? `));
        if (at === -1) continue;
        // The flag's own entry: up to the next flag.
        const entry = text.slice(at, at + 400).split(/ (?=(?:-\w, )?--[a-z][\w-]*(?:=| [A-Z[]))/)[0]!;
        if (s.env !== undefined) expect(entry, `${c} --${s.flag}`).toContain(`env: ${s.env}`);
        const d = defaultText(s);
        if (d !== undefined) expect(entry, `${c} --${s.flag}`).toContain(`default: ${flat(d)}`);
        checked++;
      }
    }
    // --config everywhere, the Redis, source and socket flags where used.
    expect(checked).toBeGreaterThan(30);
  });

  it('offers shell completion for bash and zsh', async () => {
    for (const shell of ['bash', 'zsh']) {
      const r = await pyrq(['autocomplete', 'script', shell], { env });
      expect(r.code, `${shell}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('PYRQ_AC_');
    }
    const r = await pyrq(['autocomplete', 'bash'], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('pyrq autocomplete script bash');
  });
});
