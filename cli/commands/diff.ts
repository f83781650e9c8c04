import * as Flags from '@oclif/core/flags';
import { planSummary } from '../../src/plan/render.js';
import type { Plan } from '../../src/plan/types.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { sourcesFromConfig } from '../../reconcilers/sources-from-config.js';
import { BaseCommand } from '../base-command.js';
import { frappeFlags, redisFlags, sourceFlags } from '../flags.js';
import { renderPlan } from '../render/plan.js';
import { readPauses } from '../../src/registry/pauses.js';
import { type OrphanSource, orphanLines, orphansOf } from '../../src/status/orphans.js';
import { exitCodes } from '../help.js';

export default class Diff extends BaseCommand<typeof Diff> {
  static override summary = 'Show what apply would change (a plan), without changing anything.';
  static override description = `Reads the desired schedules from the sources (--dir, --mysql-url, --postgres-url or the config file), compares them with the registry in Redis, and prints the plan: + create, ~ update (old -> new per field), - delete.

${exitCodes({ 0: 'nothing to do', 1: 'errors (some input could not be read or validated; what it covers would be kept as it is; or any other error: a setting, Redis)', 2: 'changes pending' }, 'like terraform plan -detailed-exitcode')}`;

  static override examples = [
    {
      description: 'Plan the shipped example schedules against a local Redis',
      command: '<%= config.bin %> diff --dir fixtures/schedules',
    },
    {
      description: 'Machine-readable plan, and check drift in every entry',
      command: '<%= config.bin %> diff --dir /etc/pyrq/schedules --deep --json',
    },
  ];

  static override flags = {
    ...redisFlags,
    ...sourceFlags,
    ...frappeFlags,
    deep: Flags.boolean({ summary: 'Also check every registry entry for drift (altered or lost outside pyrq).' }),
  };

  async run(): Promise<{
    plan: Plan;
    summary: ReturnType<typeof planSummary>;
    paused: { id: string; since: string; reason: string | null }[];
    orphans: OrphanSource[];
  }> {
    const cfg = this.loadSettings();
    const sources = sourcesFromConfig(cfg, { logger: await this.log_() });
    this.onClose(async () => {
      for (const s of sources) await s.close();
    });
    const registry = await this.openRegistry();
    const { plan } = await reconcileOnce({ sources, registry }, { dryRun: true, deep: this.flags.deep });
    // Notes beside the plan: what is paused, and entries of sources this run does not configure.
    const [pauses, index] = await Promise.all([readPauses(registry.redis, registry.keys), registry.readIndex()]);
    const paused = [...pauses]
      .filter(([id]) => index.has(id))
      .map(([id, p]) => ({ id, since: new Date(p.since).toISOString(), reason: p.reason ?? null }));
    const orphans = orphansOf(
      index,
      sources.map((s) => s.name),
    );
    if (!this.jsonEnabled()) {
      this.log(renderPlan(plan).join('\n'));
      for (const line of orphanLines(orphans)) this.log(`Note: ${line}.`);
      if (paused.length > 0)
        this.log(
          `Note: ${paused.length} schedule(s) paused (pyrq resume ID): ${paused.map((p) => `${p.id} since ${p.since}${p.reason ? ` (${p.reason})` : ''}`).join(', ')}.`,
        );
    }
    process.exitCode = plan.errors.length > 0 ? 1 : plan.changes.length > 0 ? 2 : 0;
    return { plan, summary: planSummary(plan), paused, orphans };
  }
}
