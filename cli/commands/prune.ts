import { createInterface } from 'node:readline/promises';
import * as Flags from '@oclif/core/flags';
import { PyrqError } from '../../src/errors.js';
import type { Plan } from '../../src/plan/types.js';
import type { ApplyResult } from '../../src/registry/registry-port.js';
import { removalPlan } from '../../src/registry/remove-entries.js';
import { normalizeContext } from '../../src/config/normalize-context.js';
import { SOCKET_SOURCE, SocketSource } from '../../sources/socket/socket-source.js';
import { BaseCommand } from '../base-command.js';
import { exitCodes } from '../help.js';
import { redisFlags } from '../flags.js';
import { renderApply, renderPlan } from '../render/plan.js';

export default class Prune extends BaseCommand<typeof Prune> {
  static override summary = 'Remove every registry entry of one source.';
  static override description = `Entries whose source takes part in no run (the BTU rows after the daemon was restarted without --mysql-url, say) keep firing: a misconfigured restart must not drop a source's schedules. The daemon warns about them at start, and "pyrq status" and "diff" list them. This removes them: every entry owned by --source, with its run history and pause (pushed schedules of the socket source also leave the socket's store).

It prints the plan first, as "pyrq diff" does, then asks on a terminal; otherwise --yes is required. --dry-run only prints the plan. Each removal is a compare-and-set, so an entry changed meanwhile is left alone. Pruning a source that is still configured is pointless: its next reconcile brings its schedules back.

${exitCodes({ 0: 'removed (or nothing to remove, or --dry-run)', 1: 'not confirmed, some entry changed meanwhile, or any other error (a setting, Redis)' })}`;

  static override examples = [
    { description: 'See what would go', command: '<%= config.bin %> prune --source mysql --dry-run' },
    { description: 'Remove, without a prompt (scripts)', command: '<%= config.bin %> prune --source mysql --yes' },
  ];

  static override flags = {
    ...redisFlags,
    source: Flags.string({
      summary: 'The source whose entries to remove (files, mysql, postgres, socket, ...).',
      required: true,
    }),
    'dry-run': Flags.boolean({ summary: 'Print the plan and change nothing.' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask (required when not on a terminal).' }),
  };

  async run(): Promise<{ plan: Plan; applied?: ApplyResult }> {
    const cfg = this.loadSettings();
    const registry = await this.openRegistry();
    const source = this.flags.source;
    const now = Date.now();
    const plan = await removalPlan(registry, source, now);
    const text = !this.jsonEnabled();
    if (text) this.log(renderPlan(plan).join('\n'));
    if (this.flags['dry-run'] || plan.changes.length === 0) return { plan };
    if (!this.flags.yes) {
      if (!process.stdin.isTTY || !text)
        throw new PyrqError(
          'CONFIG_INVALID',
          `prune removes ${plan.changes.length} schedule(s) of source "${source}": pass --yes to confirm (not on a terminal)`,
        );
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Remove these ${plan.changes.length} schedule(s) of source "${source}"? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) throw new PyrqError('CONFIG_INVALID', 'not confirmed: nothing removed');
    }
    const applied = await registry.applyPlan(plan, now);
    if (source === SOCKET_SOURCE) {
      const store = new SocketSource(registry.redis, registry.keys, normalizeContext(cfg));
      for (const id of applied.deleted) await store.remove(id);
    }
    if (text) this.log(renderApply(plan, applied).join('\n'));
    if (applied.conflicts.length > 0) process.exitCode = 1;
    return { plan, applied };
  }
}
