import * as Flags from '@oclif/core/flags';
import { planSummary } from '../../src/plan/render.js';
import type { Plan } from '../../src/plan/types.js';
import type { ApplyResult } from '../../src/registry/registry-port.js';
import { sourceStatusFromPlan } from '../../reconcilers/source-status.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { sourcesFromConfig } from '../../reconcilers/sources-from-config.js';
import { BaseCommand } from '../base-command.js';
import { frappeFlags, redisFlags, sourceFlags } from '../flags.js';
import { CHANGES_SHOWN, type Detail, renderApply, renderPlan } from '../render/plan.js';
import { exitCodes } from '../help.js';
import { ownerCheck } from '../owner-guard.js';

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Make the registry in Redis match the sources, and print what changed.';
  static override description = `Makes a plan exactly as "pyrq diff" does and applies it. Each change is a compare-and-set on the state the plan saw, so applying twice changes nothing the second time, and a concurrent writer is never overwritten.

Input that cannot be read or validated is reported; the schedules it covers keep their applied state (a broken file never deletes anything) and the rest is applied.

Large plans are collapsed: the first ${CHANGES_SHOWN} changes are printed in full, then how many lines were left out (--verbose prints every change, --quiet the summary only, --json everything).

Ctrl-C (SIGINT) stops sending changes: the batches in flight complete, pyrq says how many changes were applied and how many were not, and a re-run converges (every change is an all-or-nothing compare-and-set). A second Ctrl-C exits at once.

A source that a running daemon owns (it leads with it) is the daemon's to write: when this apply reads that source from another place (another --dir, database or table) and would change its entries, it refuses, names the daemon and where it reads, and writes nothing (exit 3). With --force it applies, and the daemon, which notices the foreign write, puts its own schedules back within a second. With the same configuration as the daemon it simply applies (both converge on the same entries).

${exitCodes({ 0: 'applied (or nothing to do)', 1: 'errors in some input or entries changed concurrently (the rest was applied), or any other error (a setting, Redis)', 2: '--dry-run with changes pending', 3: 'refused: a running daemon owns a source this would change, reading it from elsewhere (--force overrides)', 130: 'interrupted by Ctrl-C (SIGINT): what was sent is applied, a re-run converges' })}`;

  static override examples = [
    { description: 'Apply the shipped example schedules', command: '<%= config.bin %> apply --dir fixtures/schedules' },
    {
      description: 'Show the plan only (same as diff)',
      command: '<%= config.bin %> apply --dir fixtures/schedules --dry-run',
    },
    {
      description: 'One-off sync from a BTU database',
      command: 'PYRQ_MYSQL_PASSWORD=secret <%= config.bin %> apply --mysql-url mysql://pyrq@127.0.0.1/erpnext',
    },
  ];

  static override flags = {
    ...redisFlags,
    ...sourceFlags,
    ...frappeFlags,
    'dry-run': Flags.boolean({ summary: 'Print the plan and change nothing.' }),
    deep: Flags.boolean({ summary: 'Also repair drift: entries altered or lost outside pyrq are rewritten.' }),
    force: Flags.boolean({
      summary:
        'Apply even to a source that a running daemon owns with another configuration (it then restores its own).',
    }),
    quiet: Flags.boolean({ summary: 'Print the summary only.', exclusive: ['verbose'] }),
    verbose: Flags.boolean({
      summary: `Print every change (by default a plan over ${CHANGES_SHOWN} changes is collapsed).`,
      exclusive: ['quiet'],
    }),
  };

  async run(): Promise<{ plan: Plan; applied?: ApplyResult; summary: ReturnType<typeof planSummary> }> {
    const cfg = this.loadSettings();
    const sources = sourcesFromConfig(cfg, { logger: await this.log_() });
    this.onClose(async () => {
      for (const s of sources) await s.close();
    });
    const registry = await this.openRegistry();
    const dryRun = this.flags['dry-run'];
    const detail: Detail = this.flags.quiet ? 'quiet' : this.flags.verbose ? 'all' : 'collapsed';
    // Ctrl-C: finish the batches in flight, then say how far it got (a second one exits at once).
    const interrupt = new AbortController();
    const onSigint = () => {
      if (interrupt.signal.aborted) process.exit(130);
      interrupt.abort();
      process.stderr.write(
        'Interrupted: finishing the changes in flight (Ctrl-C again to exit now; a re-run converges either way)...\n',
      );
    };
    process.on('SIGINT', onSigint);
    this.onClose(() => void process.off('SIGINT', onSigint));
    const check = await ownerCheck(registry.redis, registry.keys, sources, 'apply', this.flags.force);
    const { plan, applied } = await reconcileOnce(
      { sources, registry, logger: await this.log_() },
      { dryRun, deep: this.flags.deep, signal: interrupt.signal, reason: 'pyrq apply', check },
    );
    // So that `pyrq status` shows what this apply refused after it has exited.
    if (applied)
      await registry.recordSourceStatus(
        sourceStatusFromPlan(
          plan,
          Date.now(),
          'pyrq apply',
          Object.fromEntries(sources.map((s) => [s.name, s.location])),
          Object.fromEntries(sources.map((s) => [s.name, s.detail])),
        ),
      );
    if (!this.jsonEnabled())
      this.log(
        (applied
          ? renderApply(plan, applied, detail)
          : renderPlan(plan, detail === 'collapsed' ? 'collapsed' : detail)
        ).join('\n'),
      );
    const failed = plan.errors.length > 0 || (applied?.conflicts.length ?? 0) > 0;
    process.exitCode = interrupt.signal.aborted ? 130 : failed ? 1 : dryRun && plan.changes.length > 0 ? 2 : 0;
    return { plan, applied, summary: planSummary(plan) };
  }
}
