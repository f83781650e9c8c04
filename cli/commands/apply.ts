import { Flags } from '@oclif/core';
import { planSummary } from '../../src/plan/render.js';
import type { Plan } from '../../src/plan/types.js';
import type { ApplyResult } from '../../src/registry/registry-port.js';
import { sourceStatusFromPlan } from '../../reconcilers/source-status.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { sourcesFromConfig } from '../../reconcilers/sources-from-config.js';
import { BaseCommand } from '../base-command.js';
import { redisFlags, sourceFlags } from '../flags.js';
import { renderApply, renderPlan } from '../render/plan.js';

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Make the registry in Redis match the sources, and print what changed.';
  static override description = `Makes a plan exactly as "pyrq diff" does and applies it. Each change is a compare-and-set on the state the plan saw, so applying twice changes nothing the second time, and a concurrent writer is never overwritten.

Input that cannot be read or validated is reported; the schedules it covers keep their applied state (a broken file never deletes anything) and the rest is applied.

Exit codes: 0 applied (or nothing to do); 1 errors in some input or entries changed concurrently (the rest was applied), or any other error (a setting, Redis); 2 --dry-run with changes pending.`;

  static override examples = [
    { description: 'Apply the shipped example schedules', command: '<%= config.bin %> apply --dir fixtures/schedules' },
    { description: 'Show the plan only (same as diff)', command: '<%= config.bin %> apply --dir fixtures/schedules --dry-run' },
    { description: 'One-off sync from a BTU database', command: 'PYRQ_MYSQL_PASSWORD=secret <%= config.bin %> apply --mysql-url mysql://pyrq@127.0.0.1/erpnext' },
  ];

  static override flags = {
    ...redisFlags,
    ...sourceFlags,
    'dry-run': Flags.boolean({ summary: 'Print the plan and change nothing.' }),
    deep: Flags.boolean({ summary: 'Also repair drift: entries altered or lost outside pyrq are rewritten.' }),
  };

  async run(): Promise<{ plan: Plan; applied?: ApplyResult; summary: ReturnType<typeof planSummary> }> {
    const cfg = this.loadSettings();
    const sources = sourcesFromConfig(cfg, { logger: await this.log_() });
    this.onClose(async () => {
      for (const s of sources) await s.close();
    });
    const registry = await this.openRegistry();
    const dryRun = this.flags['dry-run'];
    const { plan, applied } = await reconcileOnce({ sources, registry, logger: await this.log_() }, { dryRun, deep: this.flags.deep });
    // So that `pyrq status` shows what this apply refused after it has exited.
    if (applied) await registry.recordSourceStatus(sourceStatusFromPlan(plan, Date.now(), 'pyrq apply'));
    if (!this.jsonEnabled()) this.log((applied ? renderApply(plan, applied) : renderPlan(plan)).join('\n'));
    const failed = plan.errors.length > 0 || (applied?.conflicts.length ?? 0) > 0;
    process.exitCode = failed ? 1 : dryRun && plan.changes.length > 0 ? 2 : 0;
    return { plan, applied, summary: planSummary(plan) };
  }
}
