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
import { didYouMean } from '../../src/model/suggest.js';
import { pruneRefusalText, readLiveOwner } from '../../src/registry/source-owner.js';
import { SOURCE_FACTORIES } from '../../reconcilers/sources-from-config.js';
import { renderApply, renderPlan } from '../render/plan.js';

export default class Prune extends BaseCommand<typeof Prune> {
  static override summary = 'Remove every registry entry of one source.';
  static override description = `Entries whose source takes part in no run (the BTU rows after the daemon was restarted without --mysql-url, say) keep firing: a misconfigured restart must not drop a source's schedules. The daemon warns about them at start, and "pyrq status" and "diff" list them. This removes them: every entry owned by --source, with its run history and pause (pushed schedules of the socket source also leave the socket's store).

It prints the plan first, as "pyrq diff" does, then asks on a terminal; otherwise --yes is required. --dry-run only prints the plan. Each removal is a compare-and-set, so an entry changed meanwhile is left alone. Pruning a source that is still configured is pointless: its next reconcile brings its schedules back.

A source that a running daemon reconciles is refused (exit 3, naming the daemon and where it reads): its next reconcile would bring the schedules back, and their history and pauses would be lost meanwhile. Remove the source from the daemon's configuration first, or pass --force. A source name that no schedule, daemon or kind of source has is an error that names the closest known one.

${exitCodes({ 0: 'removed (or nothing to remove, or --dry-run)', 1: 'not confirmed, some entry changed meanwhile, an unknown source name, or any other error (a setting, Redis)', 3: 'refused: a running daemon owns this source (--force overrides)' })}`;

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
    force: Flags.boolean({
      summary: 'Prune even a source that a running daemon owns (it restores what it still reads).',
    }),
  };

  async run(): Promise<{ plan: Plan; applied?: ApplyResult }> {
    const cfg = this.loadSettings();
    const registry = await this.openRegistry();
    const source = this.flags.source;
    const now = Date.now();
    const plan = await removalPlan(registry, source, now);
    const owner = await readLiveOwner(registry.redis, registry.keys);
    if (plan.changes.length === 0) await this.assertKnown(source, owner?.sources.map((s) => s.name) ?? []);
    const owned = owner?.sources.find((s) => s.name === source);
    if (owner && owned && plan.changes.length > 0 && !this.flags.force && !this.flags['dry-run'])
      throw new PyrqError('OWNED_BY_DAEMON', pruneRefusalText(owner, owned, plan.changes.length), {
        owner: { host: owner.host, pid: owner.pid, holderId: owner.holderId },
        source: owned,
      });
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

  /**
   * A name with no entries is fine when it is a source pyrq knows (a kind of source, one
   * a daemon reads, one with entries): pruning twice succeeds. Anything else is a typo.
   */
  private async assertKnown(source: string, daemonSources: readonly string[]): Promise<void> {
    const registry = await this.openRegistry();
    const [index, facts] = await Promise.all([registry.readIndex(), registry.readDaemonFacts()]);
    const inRegistry = new Set([...index.values()].map((e) => e.source));
    const known = new Set([
      ...SOURCE_FACTORIES.map((f) => f.name),
      ...daemonSources,
      ...(facts.sources ?? []),
      ...inRegistry,
    ]);
    if (known.has(source)) return;
    const has = [...inRegistry].sort();
    throw new PyrqError(
      'UNKNOWN_SOURCE',
      `no source ${JSON.stringify(source)}${didYouMean(source, [...known])}: ${has.length > 0 ? `the registry holds schedules of ${has.map((s) => `"${s}"`).join(', ')}` : 'the registry holds no schedules'}`,
    );
  }
}
